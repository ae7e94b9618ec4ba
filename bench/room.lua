-- wrk script for bench/room.py: the live feeds of a room's "light" phones.
--
-- Usage: wrk -t 1 -c PHONES ... -s bench/room.lua URL -- COOKIES_FILE FAST_MS
-- room.py starts one wrk per slice of the join, as that slice's phones have loaded the page.
-- One wrk connection is one phone's keep-alive feed socket. Each asks GET /api/live, as the
-- page's script does: Accept JSON, If-None-Match the last ETag, ?poll= the poll last seen
-- open, then waits FAST_MS x 0.8-1.2 (delay(): wrk holds the connection idle meanwhile).
-- The first ask of each connection is spread over one cadence, so the room does not ask
-- all at once. Python in room.py cannot poll this many sockets on what the machine leaves it
-- (~135 us of client CPU per request); wrk does it for a few us.
--
-- What wrk cannot do: it knows no connection in Lua, so the cookies (signed by room.py,
-- one per phone, COOKIES_FILE one per line) are taken in turn, request by request, and the
-- last ETag and poll are the thread's, not the connection's. So after a change only the
-- first phones to ask get the new view (200); the others send its ETag at once and get 304.
-- Reach and votes are measured on the "full" phones, which room.py simulates one by one.
-- done() prints one line, "WRK_RESULT {json}", that room.py reads.

local cookies, cursor, calls, connections, fast = {}, 0, 0, 0, 1500
local etag, poll = "", ""

function init(args)
  for line in io.lines(args[1]) do
    cookies[#cookies + 1] = line
  end
  fast = tonumber(args[2])
  connections = #cookies -- one connection per phone: room.py runs wrk with -t 1 -c #cookies
  if connections == 0 then error("no cookies in " .. args[1]) end
  math.randomseed(os.time())
end

function delay()
  calls = calls + 1
  if calls <= connections then -- each connection's first ask, spread over one cadence
    return math.random(0, math.floor(fast * 1.2))
  end
  return math.floor(fast * (0.8 + 0.4 * math.random()))
end

function request()
  cursor = cursor % #cookies + 1
  local headers = { ["Cookie"] = cookies[cursor], ["Accept"] = "application/json" }
  if etag ~= "" then headers["If-None-Match"] = etag end
  local path = "/api/live"
  if poll ~= "" then path = path .. "?poll=" .. poll end
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  if status ~= 200 then return end
  etag = headers["ETag"] or headers["etag"] or etag
  local id = body:match('"poll":%s*{.-"id":%s*"([^"]*)"')
  if id then poll = id end
end

function done(summary, latency, requests)
  local e = summary.errors
  local quantiles = {} -- latency in ms at 1 %, 2 %, ... 100 %: room.py merges several wrk
  for p = 1, 100 do
    quantiles[p] = string.format("%.3f", latency:percentile(p) / 1000)
  end
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"quantiles_ms":[%s]}\n',
    summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(quantiles, ",")))
end

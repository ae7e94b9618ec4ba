-- wrk script for bench/votes.py: every request is a different voter's vote.
--
-- Usage: wrk ... -s bench/votes.lua URL -- REQUESTS_FILE THREADS
-- REQUESTS_FILE (written by votes.py) has one request per line, tab-separated:
--   path, cookie ("" for none), X-Twilio-Signature ("" for none), form body
-- Voter cookies, CSRF tokens and Twilio signatures are HMACs that only the bench can make
-- (it knows the secrets), so they are computed in Python, not here. Thread k of n takes
-- lines k, k+n, k+2n, ...; if a thread runs out it starts over and says so (a repeated
-- voter is answered "unchanged", not counted).
--
-- Counts, per thread: requests built (sent), 2xx answers (ok), answers saying the vote was
-- counted (counted: JSON "outcome":"counted" or the X-Cyoa-Outcome header), wraps.
-- done() prints one line, "WRK_RESULT {json}", that votes.py reads.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  requests, sent, ok, counted, wraps, cursor = {}, 0, 0, 0, 0, 0
  local line_no = 0
  for line in io.lines(path) do
    if line_no % nthreads == thread_index then
      local target, cookie, signature, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["Accept"] = "application/json",
      }
      if cookie ~= "" then headers["Cookie"] = cookie end
      if signature ~= "" then headers["X-Twilio-Signature"] = signature end
      requests[#requests + 1] = wrk.format("POST", target, headers, body)
    end
    line_no = line_no + 1
  end
  if #requests == 0 then error("no requests for thread " .. thread_index .. " in " .. path) end
end

function request()
  cursor = cursor + 1
  if cursor > #requests then
    cursor, wraps = 1, wraps + 1
  end
  sent = sent + 1
  return requests[cursor]
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
    local outcome = headers["x-cyoa-outcome"] or headers["X-Cyoa-Outcome"]
    if outcome == "counted"
      or (body and string.find(body, '"outcome":"counted"', 1, true)) then
      counted = counted + 1
    end
  end
end

function done(summary, latency, _)
  local totals = { sent = 0, ok = 0, counted = 0, wraps = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"duration_us": %d, "responses": %d, "sent": %d, "ok": %d, "counted": %d, '
      .. '"wraps": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, '
      .. '"status_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f}\n',
    summary.duration, summary.requests, totals.sent, totals.ok, totals.counted, totals.wraps,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end

"""The atomic Redis operations, as Lua scripts registered once per connection.

Each script touches only keys of one poll (one hash tag), so it runs on Redis Cluster too.
"""

from __future__ import annotations

# cast_vote: count one ballot, or move it when the voter changes their mind.
# KEYS[1] poll meta hash   KEYS[2] tally hash     KEYS[3] ballots hash
# KEYS[4] MessageSid set   KEYS[5] voter rate key KEYS[6] source rate key
# KEYS[7] origin hash      KEYS[8] sources hash   KEYS[9] refused hash
# KEYS[10] blocked hash    KEYS[11] seconds hash
# ARGV[1] voter id  ARGV[2] option key  ARGV[3] MessageSid or ""
# ARGV[4] voter limit  ARGV[5] source limit  ARGV[6] window seconds
# ARGV[7] source id  ARGV[8] voters-per-address cap (0: none)  ARGV[9] capped 1/0
# ARGV[10] the current unix second  ARGV[11] the current time (unix seconds, fractional)
# Returns {outcome, previous choice or ""}; outcome is one of counted, changed, unchanged,
# duplicate, unknown_poll, not_open, bad_choice, rate_limited, blocked, address_full.
# A poll past its `closes_at` (set when a poll with a time limit opens) is not open, whether
# or not anyone has closed it yet: a late vote is refused in the same atomic step.
# The cap: a new voter (no ballot in this poll yet) from a capped source that already has
# `cap` ballots standing is refused; the poll's own `voters_per_address` (set by the
# presenter) wins over ARGV[8]. A voter with a ballot may always change it.
CAST_VOTE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'unknown_poll', ''} end
if status ~= 'open' then return {'not_open', status} end
local closes = redis.call('HGET', KEYS[1], 'closes_at')
if closes and tonumber(ARGV[11]) >= tonumber(closes) then return {'not_open', 'closed'} end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then return {'bad_choice', ''} end
if redis.call('HEXISTS', KEYS[10], ARGV[7]) == 1 then
  redis.call('HINCRBY', KEYS[10], ARGV[7], 1)
  return {'blocked', ''}
end
local window = tonumber(ARGV[6])
local v = redis.call('INCR', KEYS[5])
if v == 1 then redis.call('EXPIRE', KEYS[5], window) end
if v > tonumber(ARGV[4]) then return {'rate_limited', 'voter'} end
local a = redis.call('INCR', KEYS[6])
if a == 1 then redis.call('EXPIRE', KEYS[6], window) end
if a > tonumber(ARGV[5]) then return {'rate_limited', 'address'} end
if ARGV[3] ~= '' then
  if redis.call('SADD', KEYS[4], ARGV[3]) == 0 then
    return {'duplicate', redis.call('HGET', KEYS[3], ARGV[1]) or ''}
  end
end
local previous = redis.call('HGET', KEYS[3], ARGV[1])
if previous == ARGV[2] then return {'unchanged', previous} end
if not previous and ARGV[9] == '1' then
  local cap = tonumber(redis.call('HGET', KEYS[1], 'voters_per_address') or ARGV[8])
  if cap > 0 and tonumber(redis.call('HGET', KEYS[8], ARGV[7]) or '0') >= cap then
    redis.call('HINCRBY', KEYS[9], ARGV[7], 1)
    return {'address_full', ''}
  end
end
if previous then redis.call('HINCRBY', KEYS[2], previous, -1) end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if previous then return {'changed', previous} end
redis.call('HSET', KEYS[7], ARGV[1], ARGV[7])
redis.call('HINCRBY', KEYS[8], ARGV[7], 1)
redis.call('HINCRBY', KEYS[11], ARGV[10], 1)
return {'counted', ''}
"""

# define_poll: create or update a poll's question and options; refused once votes exist
# and the option keys would change.
# KEYS[1] poll meta hash  KEYS[2] tally hash  KEYS[3] ballots hash
# ARGV[1] question  ARGV[2] options JSON  ARGV[3] hide_results 0/1  ARGV[4] scene
# ARGV[5] now  ARGV[6] time limit in seconds or "" (none)  ARGV[7..] option keys
# Returns {outcome}: created, updated, has_votes. A new time limit counts from the next open.
DEFINE_POLL = """
local exists = redis.call('EXISTS', KEYS[1]) == 1
if exists and redis.call('HLEN', KEYS[3]) > 0 then
  local current = redis.call('HKEYS', KEYS[2])
  table.sort(current)
  local wanted = {}
  for i = 7, #ARGV do wanted[#wanted + 1] = ARGV[i] end
  table.sort(wanted)
  if table.concat(current, '\\0') ~= table.concat(wanted, '\\0') then
    return {'has_votes'}
  end
else
  redis.call('DEL', KEYS[2])
  for i = 7, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], 0) end
end
redis.call('HSET', KEYS[1], 'question', ARGV[1], 'options', ARGV[2],
  'hide_results', ARGV[3], 'scene', ARGV[4], 'updated', ARGV[5], 'time_limit', ARGV[6])
if not exists then
  redis.call('HSET', KEYS[1], 'status', 'draft', 'created', ARGV[5])
  return {'created'}
end
return {'updated'}
"""

# set_status: move a poll to open or closed (refused for an unknown poll). Opening a poll
# with a time limit sets its deadline, `closes_at` = now + limit (without one, none); a
# close after the deadline records the deadline as the time it closed. A poll already in
# that status is left as it is (a second close keeps the first one's time; opening an
# open poll keeps its deadline, unless the deadline has passed: then it opens anew).
# KEYS[1] poll meta hash   ARGV[1] new status  ARGV[2] now (unix seconds, fractional)
SET_STATUS = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
local deadline = tonumber(redis.call('HGET', KEYS[1], 'closes_at') or '')
local expired = status == 'open' and deadline and deadline <= tonumber(ARGV[2])
if status == ARGV[1] and not expired then return 1 end
local at = ARGV[2]
if ARGV[1] == 'open' then
  local limit = tonumber(redis.call('HGET', KEYS[1], 'time_limit') or '')
  if limit then
    redis.call('HSET', KEYS[1], 'closes_at', tostring(tonumber(ARGV[2]) + limit))
  else
    redis.call('HDEL', KEYS[1], 'closes_at')
  end
elseif expired then
  at = tostring(deadline)
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], ARGV[1] .. '_at', at)
return 1
"""

# reset_poll: forget every ballot of a poll; its options stay, every tally back to 0; its
# sources, refusals, blocks and per-second counts go too (the presenter's cap stays).
# KEYS[1] poll meta hash  KEYS[2] tally hash  KEYS[3] ballots hash  KEYS[4] sids set
# An open poll with a time limit gets its whole time again, from now.
# KEYS[5..9] origin, sources, refused, blocked, seconds hashes
# ARGV[1] now (unix seconds, fractional)
RESET_POLL = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for _, key in ipairs(redis.call('HKEYS', KEYS[2])) do redis.call('HSET', KEYS[2], key, 0) end
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9])
redis.call('HDEL', KEYS[1], 'discarded')
local limit = tonumber(redis.call('HGET', KEYS[1], 'time_limit') or '')
if limit and redis.call('HGET', KEYS[1], 'status') == 'open' then
  redis.call('HSET', KEYS[1], 'closes_at', tostring(tonumber(ARGV[1]) + limit))
end
return 1
"""

# set_cap: the presenter's voters-per-address cap for one poll (0 lifts it).
# KEYS[1] poll meta hash   ARGV[1] cap
# Returns 0 for an unknown poll, else 1.
SET_CAP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'voters_per_address', ARGV[1])
return 1
"""

# discard_source: take back every ballot first cast from one source, and block it.
# KEYS[1] poll meta hash  KEYS[2] tally hash  KEYS[3] ballots hash  KEYS[4] origin hash
# KEYS[5] sources hash    KEYS[6] blocked hash
# ARGV[1] source id
# Returns the number of ballots removed (also added to the meta's `discarded`), or -1 for
# an unknown poll. One pass over the poll's origin hash: a presenter's action, run a few
# times a talk, never per vote.
DISCARD_SOURCE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local removed = 0
local origin = redis.call('HGETALL', KEYS[4])
for i = 1, #origin, 2 do
  if origin[i + 1] == ARGV[1] then
    local voter = origin[i]
    local choice = redis.call('HGET', KEYS[3], voter)
    if choice then
      redis.call('HINCRBY', KEYS[2], choice, -1)
      redis.call('HDEL', KEYS[3], voter)
      removed = removed + 1
    end
    redis.call('HDEL', KEYS[4], voter)
  end
end
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('HSETNX', KEYS[6], ARGV[1], 0)
redis.call('HINCRBY', KEYS[1], 'discarded', removed)
return removed
"""

"""The atomic Redis operations, as Lua scripts registered once per connection.

Each script touches only keys of one poll (one hash tag), so it runs on Redis Cluster too.
"""

from __future__ import annotations

# cast_vote: count one ballot, or move it when the voter changes their mind.
# KEYS[1] poll meta hash   KEYS[2] tally hash     KEYS[3] ballots hash
# KEYS[4] MessageSid set   KEYS[5] voter rate key KEYS[6] address rate key
# ARGV[1] voter id  ARGV[2] option key  ARGV[3] MessageSid or ""
# ARGV[4] voter limit  ARGV[5] address limit  ARGV[6] window seconds
# Returns {outcome, previous choice or ""}; outcome is one of
# counted, changed, unchanged, duplicate, unknown_poll, not_open, bad_choice, rate_limited.
CAST_VOTE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'unknown_poll', ''} end
if status ~= 'open' then return {'not_open', status} end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then return {'bad_choice', ''} end
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
if previous then redis.call('HINCRBY', KEYS[2], previous, -1) end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if previous then return {'changed', previous} end
return {'counted', ''}
"""

# define_poll: create or update a poll's question and options; refused once votes exist
# and the option keys would change.
# KEYS[1] poll meta hash  KEYS[2] tally hash  KEYS[3] ballots hash
# ARGV[1] question  ARGV[2] options JSON  ARGV[3] hide_results 0/1  ARGV[4] scene
# ARGV[5] now  ARGV[6..] option keys
# Returns {outcome}: created, updated, has_votes.
DEFINE_POLL = """
local exists = redis.call('EXISTS', KEYS[1]) == 1
if exists and redis.call('HLEN', KEYS[3]) > 0 then
  local current = redis.call('HKEYS', KEYS[2])
  table.sort(current)
  local wanted = {}
  for i = 6, #ARGV do wanted[#wanted + 1] = ARGV[i] end
  table.sort(wanted)
  if table.concat(current, '\\0') ~= table.concat(wanted, '\\0') then
    return {'has_votes'}
  end
else
  redis.call('DEL', KEYS[2])
  for i = 6, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], 0) end
end
redis.call('HSET', KEYS[1], 'question', ARGV[1], 'options', ARGV[2],
  'hide_results', ARGV[3], 'scene', ARGV[4], 'updated', ARGV[5])
if not exists then
  redis.call('HSET', KEYS[1], 'status', 'draft', 'created', ARGV[5])
  return {'created'}
end
return {'updated'}
"""

# set_status: move a poll to open or closed (refused for an unknown poll).
# KEYS[1] poll meta hash   ARGV[1] new status  ARGV[2] now
SET_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], ARGV[1] .. '_at', ARGV[2])
return 1
"""

# reset_poll: forget every ballot of a poll; its options stay, every tally back to 0.
# KEYS[1] poll meta hash  KEYS[2] tally hash  KEYS[3] ballots hash  KEYS[4] sids set
RESET_POLL = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for _, key in ipairs(redis.call('HKEYS', KEYS[2])) do redis.call('HSET', KEYS[2], key, 0) end
redis.call('DEL', KEYS[3], KEYS[4])
return 1
"""

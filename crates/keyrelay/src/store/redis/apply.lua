-- Merges coalesced key updates into their hashes, atomically (Redis runs a
-- script alone), by the rules of keypool's KeyRecord::absorb: the later
-- cooldown deadline and the latest disable/reinstate event win, counters add,
-- the latest attempt sets the last class, reason and time. Times are Unix ms
-- (they fit a Lua double exactly).
--
-- KEYS[1]: the schema version key. Then per update, 3 keys: the pool's id set,
-- the key's hash, the key's cooling marker.
-- ARGV[1]: the schema version. Then per update, 18 values: id,
-- cooling_until_ms, cooling_class, disabled_at_ms, disabled_reason,
-- reinstated_at_ms, requests, 8 counters (OutcomeClass order), last_class,
-- last_reason, last_used_ms ("" for none).
local COUNTERS = {'success', 'client_error', 'key_invalid', 'key_no_credit',
  'quota_daily', 'rate_limited', 'transient', 'provider_down'}
local PER_UPDATE = 18

redis.call('SET', KEYS[1], ARGV[1], 'NX')
local updates = (#KEYS - 1) / 3
for u = 0, updates - 1 do
  local ids, hash, marker = KEYS[2 + u * 3], KEYS[3 + u * 3], KEYS[4 + u * 3]
  local a = 1 + u * PER_UPDATE
  local function arg(i) return ARGV[a + i] end
  redis.call('SADD', ids, arg(1))
  local cur = redis.call('HMGET', hash, 'cooling_until_ms', 'disabled_at_ms',
    'reinstated_at_ms', 'last_used_ms')
  local cooling_until = tonumber(arg(2))
  if cooling_until > (tonumber(cur[1]) or 0) then
    redis.call('HSET', hash, 'cooling_until_ms', arg(2), 'cooling_class', arg(3))
    -- A marker that expires with the cooldown, for people and tools
    -- (`SCAN MATCH keyrelay:*:cooling:*`); the hash stays the source of truth.
    redis.call('SET', marker, arg(3), 'PXAT', arg(2))
  end
  if tonumber(arg(4)) > (tonumber(cur[2]) or 0) then
    redis.call('HSET', hash, 'disabled_at_ms', arg(4), 'disabled_reason', arg(5))
  end
  if tonumber(arg(6)) > (tonumber(cur[3]) or 0) then
    redis.call('HSET', hash, 'reinstated_at_ms', arg(6))
  end
  local requests = tonumber(arg(7))
  -- Counts go as the caller's strings: Lua would print big numbers as 1e+14.
  redis.call('HINCRBY', hash, 'requests', arg(7))
  for c = 1, #COUNTERS do
    if tonumber(arg(7 + c)) > 0 then
      redis.call('HINCRBY', hash, COUNTERS[c], arg(7 + c))
    end
  end
  if requests > 0 and tonumber(arg(18)) >= (tonumber(cur[4]) or 0) then
    redis.call('HSET', hash, 'last_class', arg(16), 'last_reason', arg(17),
      'last_used_ms', arg(18))
  end
end
return updates

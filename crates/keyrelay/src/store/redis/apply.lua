-- Merges coalesced key updates into their hashes, atomically (Redis runs a
-- script alone), by the rules of keypool's KeyRecord::absorb: the later
-- cooldown deadline and the latest disable/reinstate event win, counters add,
-- the latest attempt sets the last class, reason and time. Times are Unix ms
-- (they fit a Lua double exactly).
--
-- KEYS[1]: the schema version key. Then per update, 4 keys: the pool's id set,
-- the key's hash, the key's cooling marker, the key's model cooldowns hash.
-- ARGV[1]: the schema version. Then per update, 18 values: id,
-- cooling_until_ms, cooling_class, disabled_at_ms, disabled_reason,
-- reinstated_at_ms, requests, 8 counters (OutcomeClass order), last_class,
-- last_reason, last_used_ms ("" for none); then the number of model
-- cooldowns, and for each: model, until_ms, class; then the number of usage
-- buckets, and for each: span, bucket, requests, tokens, ends_ms.
--
-- A model cooldown is the field MODEL of the models hash, valued
-- "UNTIL_MS CLASS"; the later deadline wins. Ended ones are dropped, and the
-- hash expires with its last cooldown.
--
-- Usage buckets (client-side budgets) are counters in the key's usage hash:
-- fields "SPAN:BUCKET:r" (requests) and "SPAN:BUCKET:t" (tokens), added to;
-- buckets out of their window are dropped, and the hash expires with the
-- last of them. KEYS per update gain a 5th: the usage hash.
local COUNTERS = {'success', 'client_error', 'key_invalid', 'key_no_credit',
  'quota_daily', 'rate_limited', 'transient', 'provider_down'}
local FIXED = 18

local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)

redis.call('SET', KEYS[1], ARGV[1], 'NX')
local updates = (#KEYS - 1) / 5
local a = 1
for u = 0, updates - 1 do
  local ids, hash, marker, models, usage =
    KEYS[2 + u * 5], KEYS[3 + u * 5], KEYS[4 + u * 5], KEYS[5 + u * 5], KEYS[6 + u * 5]
  local base = a
  local function arg(i) return ARGV[base + i] end
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
  local scoped = tonumber(arg(FIXED + 1))
  if scoped > 0 then
    for s = 0, scoped - 1 do
      local model = arg(FIXED + 2 + s * 3)
      local until_ms = tonumber(arg(FIXED + 3 + s * 3))
      local stored = redis.call('HGET', models, model)
      local stored_until = stored and tonumber(string.match(stored, '^(%d+)')) or 0
      if until_ms > stored_until then
        redis.call('HSET', models, model, arg(FIXED + 3 + s * 3) .. ' ' .. arg(FIXED + 4 + s * 3))
      end
    end
    local latest = 0
    local all = redis.call('HGETALL', models)
    for f = 1, #all, 2 do
      local until_ms = tonumber(string.match(all[f + 1], '^(%d+)')) or 0
      if until_ms <= now_ms then
        redis.call('HDEL', models, all[f])
      elseif until_ms > latest then
        latest = until_ms
      end
    end
    if latest > 0 then
      redis.call('PEXPIREAT', models, latest)
    end
  end
  local u0 = FIXED + 2 + scoped * 3
  local buckets = tonumber(arg(u0))
  if buckets > 0 then
    local latest = 0
    for b = 0, buckets - 1 do
      local at = u0 + 1 + b * 5
      local field = arg(at) .. ':' .. arg(at + 1)
      redis.call('HINCRBY', usage, field .. ':r', arg(at + 2))
      redis.call('HINCRBY', usage, field .. ':t', arg(at + 3))
      redis.call('HSET', usage, field .. ':e', arg(at + 4))
      local ends = tonumber(arg(at + 4))
      if ends > latest then latest = ends end
    end
    local all = redis.call('HGETALL', usage)
    for f = 1, #all, 2 do
      local bucket, kind = string.match(all[f], '^(.*):(%a)$')
      if kind == 'e' then
        local ends = tonumber(all[f + 1]) or 0
        if ends <= now_ms then
          redis.call('HDEL', usage, bucket .. ':r', bucket .. ':t', bucket .. ':e')
        elseif ends > latest then
          latest = ends
        end
      end
    end
    redis.call('PEXPIREAT', usage, latest)
  end
  a = a + u0 + buckets * 5
end
return updates

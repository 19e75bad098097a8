-- Creates or replaces one virtual key, atomically, and bumps the version
-- other processes watch. Names and secret hashes are unique: a second hash
-- maps each to its key's id.
--
-- KEYS: the keys hash (id -> JSON record), the names hash (name -> id), the
-- hashes hash (secret hash -> id), the version counter.
-- ARGV: "create" or "replace", id, name, secret hash, the JSON record.
-- Returns "ok", "name_taken" or "not_found".
local keys, names, hashes, version = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, id, name, hash, record = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]

local old = redis.call('HGET', keys, id)
if mode == 'replace' and not old then
  return 'not_found'
end
if mode == 'create' and old then
  return 'name_taken'
end
local holder = redis.call('HGET', names, name)
if holder and holder ~= id then
  return 'name_taken'
end
if old then
  local previous = cjson.decode(old)
  if previous.name ~= name then
    redis.call('HDEL', names, previous.name)
  end
  if previous.hash ~= hash then
    redis.call('HDEL', hashes, previous.hash)
  end
end
redis.call('HSET', keys, id, record)
redis.call('HSET', names, name, id)
redis.call('HSET', hashes, hash, id)
redis.call('INCR', version)
return 'ok'

-- Deletes one virtual key with its name and hash entries, atomically, and
-- bumps the version. KEYS as write_key.lua; ARGV: the id.
-- Returns "ok" or "not_found".
local keys, names, hashes, version = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id = ARGV[1]

local old = redis.call('HGET', keys, id)
if not old then
  return 'not_found'
end
local previous = cjson.decode(old)
redis.call('HDEL', keys, id)
if redis.call('HGET', names, previous.name) == id then
  redis.call('HDEL', names, previous.name)
end
if redis.call('HGET', hashes, previous.hash) == id then
  redis.call('HDEL', hashes, previous.hash)
end
redis.call('INCR', version)
return 'ok'

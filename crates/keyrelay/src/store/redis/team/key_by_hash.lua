-- The JSON record of the virtual key whose secret hashes to ARGV[1], or nil.
-- KEYS: the keys hash, the hashes hash.
local id = redis.call('HGET', KEYS[2], ARGV[1])
if not id then
  return false
end
return redis.call('HGET', KEYS[1], id)

-- Every record of one pool in one round trip: the pool's id set, then each
-- id's hash. Returns { {id, field, value, field, value, ...}, ... }.
-- KEYS[1]: the pool's id set. ARGV[1]: the hash key prefix (the id follows).
local rows = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local row = {id}
  for _, v in ipairs(redis.call('HGETALL', ARGV[1] .. id)) do
    row[#row + 1] = v
  end
  rows[#rows + 1] = row
end
return rows

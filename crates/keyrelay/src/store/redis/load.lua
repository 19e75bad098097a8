-- Every record of one pool in one round trip: the pool's id set, then each
-- id's hash, its model cooldowns (fields "model:MODEL") and its usage
-- buckets (fields "usage:SPAN:BUCKET:r|t|e").
-- Returns { {id, field, value, field, value, ...}, ... }.
-- KEYS[1]: the pool's id set. ARGV[1]: the hash key prefix, ARGV[2] the
-- model cooldowns key prefix, ARGV[3] the usage key prefix (the id follows
-- each).
local rows = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local row = {id}
  for _, v in ipairs(redis.call('HGETALL', ARGV[1] .. id)) do
    row[#row + 1] = v
  end
  local models = redis.call('HGETALL', ARGV[2] .. id)
  for f = 1, #models, 2 do
    row[#row + 1] = 'model:' .. models[f]
    row[#row + 1] = models[f + 1]
  end
  local usage = redis.call('HGETALL', ARGV[3] .. id)
  for f = 1, #usage, 2 do
    row[#row + 1] = 'usage:' .. usage[f]
    row[#row + 1] = usage[f + 1]
  end
  rows[#rows + 1] = row
end
return rows

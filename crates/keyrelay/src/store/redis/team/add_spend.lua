-- Adds one batch of spend, atomically: every row and counter, or nothing.
--
-- ARGV[1]: seconds a day's spend hash is kept after its last write.
-- ARGV[2]: the number of rows, R. Row i adds to the day hash KEYS[i]: ARGV
-- holds its field prefix ("DIMENSION|") and suffix ("|NAME"), then the 8
-- counters in SpendCounts::FIELDS order; field "DIMENSION|FIELD|NAME".
-- Then each counter j adds to KEYS[R + j]: ARGV holds the increment and the
-- Unix ms it expires at (the same for every increment of one counter).
local keep = tonumber(ARGV[1])
local rows = tonumber(ARGV[2])
local FIELDS = {'requests', 'input_tokens', 'output_tokens', 'cache_read_tokens',
  'cache_write_tokens', 'usd_nanos', 'unpriced_requests', 'estimated_requests'}

local a = 3
for i = 1, rows do
  local prefix, suffix = ARGV[a], ARGV[a + 1]
  for f = 1, 8 do
    local n = ARGV[a + 1 + f]
    if n ~= '0' then
      redis.call('HINCRBY', KEYS[i], prefix .. FIELDS[f] .. suffix, n)
    end
  end
  redis.call('EXPIRE', KEYS[i], keep)
  a = a + 10
end
for j = rows + 1, #KEYS do
  redis.call('INCRBY', KEYS[j], ARGV[a])
  redis.call('PEXPIREAT', KEYS[j], ARGV[a + 1])
  a = a + 2
end
return 0

-- A piece of an answer being written: room ARGV[1], request ARGV[2], at offset ARGV[3], text ARGV[4]; kept
-- ARGV[5] ms at most. Pieces are kept by offset, so they may arrive in any order.
local key = 'parley:answer:{' .. ARGV[1] .. '}:' .. ARGV[2]
local set = 'parley:answers:{' .. ARGV[1] .. '}'
if redis.call('EXISTS', key .. ':ended') == 1 then
  return 0
end
redis.call('HSET', key, ARGV[3], ARGV[4])
redis.call('PEXPIRE', key, tonumber(ARGV[5]))
redis.call('SADD', set, ARGV[2])
redis.call('PEXPIRE', set, tonumber(ARGV[5]))
return 1

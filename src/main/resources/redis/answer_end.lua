-- The answer ARGV[2] of room ARGV[1] is stored (or failed): forget its pieces, and remember for ARGV[3] ms that it
-- ended, so a piece still on its way (pieces travel on other connections) does not bring it back.
local key = 'parley:answer:{' .. ARGV[1] .. '}:' .. ARGV[2]
redis.call('DEL', key)
redis.call('SET', key .. ':ended', 1, 'PX', tonumber(ARGV[3]))
redis.call('SREM', 'parley:answers:{' .. ARGV[1] .. '}', ARGV[2])
return 1

-- The answer ARGV[2] of room ARGV[1] is stored (or failed): forget its pieces.
redis.call('DEL', 'parley:answer:{' .. ARGV[1] .. '}:' .. ARGV[2])
redis.call('SREM', 'parley:answers:{' .. ARGV[1] .. '}', ARGV[2])
return 1

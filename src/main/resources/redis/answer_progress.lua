-- The answers being written in room ARGV[1]: pairs of (request id, JSON array [offset, text, offset, text, …]).
local set = 'parley:answers:{' .. ARGV[1] .. '}'
local out = {}
for _, request in ipairs(redis.call('SMEMBERS', set)) do
  local pieces = redis.call('HGETALL', 'parley:answer:{' .. ARGV[1] .. '}:' .. request)
  if #pieces > 0 then
    table.insert(out, request)
    table.insert(out, cjson.encode(pieces))
  else
    redis.call('SREM', set, request)
  end
end
return out

-- The live connections of room ARGV[1]: the user JSON of every connection whose expiry has not passed, so a
-- crashed node's users are gone from the list the moment their TTL ends, even before a sweep.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local prefix = 'parley:presence:{' .. ARGV[1] .. '}:'
local live = redis.call('ZRANGEBYSCORE', prefix .. 'exp', now, '+inf')
local users = {}
for _, conn in ipairs(live) do
  local user = redis.call('HGET', prefix .. 'conns', conn)
  if user then
    table.insert(users, user)
  end
end
return users

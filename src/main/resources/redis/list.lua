-- Who is online in room ARGV[1], at most ARGV[2] users: returns how many users the room has online, then per
-- listed user its JSON and its number of connections. Only connections whose expiry has not passed count, so a
-- crashed node's users are gone from the list the moment their TTL ends, even before a sweep. It reads no
-- further than one user past the limit, so a crowded room costs no more than a full one.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local prefix = 'parley:presence:{' .. ARGV[1] .. '}:'
local max = tonumber(ARGV[2])
local seen = {}
local found = 0
local out = {0}
local offset = 0
while found <= max do
  local live = redis.call('ZRANGEBYSCORE', prefix .. 'exp', now, '+inf', 'LIMIT', offset, 256)
  if #live == 0 then
    break
  end
  offset = offset + #live
  for _, conn in ipairs(live) do
    local user = redis.call('HGET', prefix .. 'conns', conn)
    if user then
      local id = cjson.decode(user).id
      if not seen[id] then
        seen[id] = true
        found = found + 1
        if found > max then
          break
        end
        table.insert(out, user)
        table.insert(out, tonumber(redis.call('HGET', prefix .. 'users', id) or 1))
      end
    end
  end
end
-- Listed in full: exactly the users found. Cut short: the room's count, which a sweep has yet to correct for
-- users of a crashed node (for at most a quarter of the TTL).
out[1] = found <= max and found or math.max(found, redis.call('HLEN', prefix .. 'users'))
return out

-- Who is online in room ARGV[1], at most ARGV[2] users: returns how many users the room has online, then per
-- listed user its JSON and its number of live connections. Only connections whose expiry has not passed count,
-- so a crashed node's users are gone from the list the moment their TTL ends, even before a sweep. Every join
-- runs it, so it stays cheap: a user's connections store the same JSON text, which is counted as it is, never
-- decoded, and it reads no further than the first user past the limit (a crowded room costs what a full one
-- does; there the counts are of the connections read so far).
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local prefix = 'parley:presence:{' .. ARGV[1] .. '}:'
local max = tonumber(ARGV[2])
local at = {}
local out = {0}
local listed = 0
local truncated = false
local offset = 0
while not truncated do
  local live = redis.call('ZRANGEBYSCORE', prefix .. 'exp', now, '+inf', 'LIMIT', offset, 256)
  if #live == 0 then
    break
  end
  offset = offset + #live
  for _, user in ipairs(redis.call('HMGET', prefix .. 'conns', unpack(live))) do
    if user then
      if at[user] then
        out[at[user]] = out[at[user]] + 1
      elseif listed == max then
        truncated = true
        break
      else
        listed = listed + 1
        table.insert(out, user)
        table.insert(out, 1)
        at[user] = #out
      end
    end
  end
end
-- Listed in full: exactly the users found. Cut short: the room's count, which a sweep has yet to correct for
-- users of a crashed node (for at most a quarter of the TTL).
out[1] = truncated and math.max(listed + 1, redis.call('HLEN', prefix .. 'users')) or listed
return out

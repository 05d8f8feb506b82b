-- Removes up to ARGV[1] connections whose expiry has passed (their node stopped refreshing them: it crashed).
-- Returns the number of expired entries it took, then a triple (room, user JSON, users the room then has online)
-- per user who thereby went offline. Atomic, so when several nodes sweep at once each expired connection is reported by exactly one.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local expired = redis.call('ZRANGEBYSCORE', 'parley:presence:expiring', '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local offline = {#expired}
for _, entry in ipairs(expired) do
  redis.call('ZREM', 'parley:presence:expiring', entry)
  local bar = string.find(entry, '|', 1, true)
  local room, conn = string.sub(entry, 1, bar - 1), string.sub(entry, bar + 1)
  local prefix = 'parley:presence:{' .. room .. '}:'
  local user = redis.call('HGET', prefix .. 'conns', conn)
  if user then
    redis.call('HDEL', prefix .. 'conns', conn)
    redis.call('ZREM', prefix .. 'exp', conn)
    local id = cjson.decode(user).id
    if redis.call('HINCRBY', prefix .. 'users', id, -1) <= 0 then
      redis.call('HDEL', prefix .. 'users', id)
      table.insert(offline, room)
      table.insert(offline, user)
      table.insert(offline, redis.call('HLEN', prefix .. 'users'))
    end
  end
end
return offline

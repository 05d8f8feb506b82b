-- Removes connection ARGV[2] from room ARGV[1]. Returns the user's JSON when that was the user's last
-- connection to the room (the user went offline), else false. Leaves a tombstone for ARGV[3] ms, so a connect
-- or a refresh of this connection that reaches Redis after it (they may travel on other connections) is ignored.
local prefix = 'parley:presence:{' .. ARGV[1] .. '}:'
redis.call('SET', prefix .. 'gone:' .. ARGV[2], 1, 'PX', tonumber(ARGV[3]))
local user = redis.call('HGET', prefix .. 'conns', ARGV[2])
if not user then
  return false
end
redis.call('HDEL', prefix .. 'conns', ARGV[2])
redis.call('ZREM', prefix .. 'exp', ARGV[2])
redis.call('ZREM', 'parley:presence:expiring', ARGV[1] .. '|' .. ARGV[2])
local id = cjson.decode(user).id
if redis.call('HINCRBY', prefix .. 'users', id, -1) <= 0 then
  redis.call('HDEL', prefix .. 'users', id)
  return user
end
return false

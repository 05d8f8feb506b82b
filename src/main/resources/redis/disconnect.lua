-- ARGV[1] is how long a tombstone lasts in ms, then pairs (room, connection): removes each connection from its
-- room. Returns two values per pair: the user's JSON when that was the user's last connection to the room (the
-- user went offline), else ''; and how many users the room then has online. The tombstone makes a connect or a
-- refresh of this connection that reaches Redis after it (they may travel on other connections) be ignored.
local out = {}
for i = 2, #ARGV, 2 do
  local room, conn = ARGV[i], ARGV[i + 1]
  local prefix = 'parley:presence:{' .. room .. '}:'
  redis.call('SET', prefix .. 'gone:' .. conn, 1, 'PX', tonumber(ARGV[1]))
  local user = redis.call('HGET', prefix .. 'conns', conn)
  local gone = ''
  if user then
    redis.call('HDEL', prefix .. 'conns', conn)
    redis.call('ZREM', prefix .. 'exp', conn)
    redis.call('ZREM', 'parley:presence:expiring', room .. '|' .. conn)
    local id = cjson.decode(user).id
    if redis.call('HINCRBY', prefix .. 'users', id, -1) <= 0 then
      redis.call('HDEL', prefix .. 'users', id)
      gone = user
    end
  end
  table.insert(out, gone)
  table.insert(out, redis.call('HLEN', prefix .. 'users'))
end
return out

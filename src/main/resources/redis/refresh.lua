-- A node's heartbeat: ARGV[1] is the TTL in ms, then triples (room, connection, user JSON). Extends each
-- connection's expiry; a connection Redis no longer has (Redis restarted, or the node was paused past the TTL
-- and swept, or Redis was down when it joined) is added again, unless it left meanwhile (its tombstone exists).
-- Returns a triple (room, user JSON, users the room then has online) per user who thereby came back online.
local t = redis.call('TIME')
local expires = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
local online = {}
for i = 2, #ARGV, 3 do
  local room, conn, user = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local prefix = 'parley:presence:{' .. room .. '}:'
  if redis.call('EXISTS', prefix .. 'gone:' .. conn) == 0 then
    if redis.call('HSET', prefix .. 'conns', conn, user) == 1 then
      if redis.call('HINCRBY', prefix .. 'users', cjson.decode(user).id, 1) == 1 then
        table.insert(online, room)
        table.insert(online, user)
        table.insert(online, redis.call('HLEN', prefix .. 'users'))
      end
    end
    redis.call('ZADD', prefix .. 'exp', expires, conn)
    redis.call('ZADD', 'parley:presence:expiring', expires, room .. '|' .. conn)
  end
end
return online

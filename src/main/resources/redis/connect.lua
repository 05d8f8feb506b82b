-- ARGV[1] is the TTL in ms, then triples (room, connection, user JSON {id, displayName}): adds each connection
-- to its room, expiring after the TTL. A connection that already left (its tombstone exists) is not added.
-- Returns two values per triple: 1 when it is the user's first connection to the room (the user came online),
-- else 0; and how many users the room then has online. (A node sends one connection per call: joins wait for
-- it, and batching them behind one call in flight slowed them down.)
-- Redis's own clock is the one clock of the cluster.
local t = redis.call('TIME')
local expires = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
local out = {}
for i = 2, #ARGV, 3 do
  local room, conn, user = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local prefix = 'parley:presence:{' .. room .. '}:'
  local first = 0
  if redis.call('EXISTS', prefix .. 'gone:' .. conn) == 0 then
    local added = redis.call('HSET', prefix .. 'conns', conn, user)
    redis.call('ZADD', prefix .. 'exp', expires, conn)
    redis.call('ZADD', 'parley:presence:expiring', expires, room .. '|' .. conn)
    if added == 1 and redis.call('HINCRBY', prefix .. 'users', cjson.decode(user).id, 1) == 1 then
      first = 1
    end
  end
  table.insert(out, first)
  table.insert(out, redis.call('HLEN', prefix .. 'users'))
end
return out

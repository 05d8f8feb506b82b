-- Adds connection ARGV[2] of user ARGV[3] (JSON {id, displayName}) to room ARGV[1], expiring in ARGV[4] ms.
-- Returns 1 when it is the user's first connection to the room (the user came online), else 0. A connection
-- that already left (its tombstone exists) is not added.
-- Redis's own clock is the one clock of the cluster.
local t = redis.call('TIME')
local expires = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[4])
local prefix = 'parley:presence:{' .. ARGV[1] .. '}:'
if redis.call('EXISTS', prefix .. 'gone:' .. ARGV[2]) == 1 then
  return 0
end
local added = redis.call('HSET', prefix .. 'conns', ARGV[2], ARGV[3])
redis.call('ZADD', prefix .. 'exp', expires, ARGV[2])
redis.call('ZADD', 'parley:presence:expiring', expires, ARGV[1] .. '|' .. ARGV[2])
if added == 1 then
  local user = cjson.decode(ARGV[3]).id
  if redis.call('HINCRBY', prefix .. 'users', user, 1) == 1 then
    return 1
  end
end
return 0

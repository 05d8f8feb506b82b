-- A cluster-wide rate limit as a generic cell rate algorithm: key KEYS[1] holds the theoretical arrival time of
-- the next action; ARGV[1] actions are allowed per ARGV[2] ms, as a burst or spread out. Returns 0 when the
-- action is allowed (and counts it), else the milliseconds until it would be.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local limit, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local interval = period / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
  tat = now
end
local next = tat + interval
local allowedAt = next - period
if now < allowedAt then
  return math.ceil(allowedAt - now)
end
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.ceil(next - now))
return 0

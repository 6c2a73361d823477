import { RedisScript } from '../../../transports/redis/redis-script';

/**
 * rate-slot: the next start slot of a rate limit shared by every worker (`globalRateLimit`), on
 * Redis's own clock so that workers on different machines agree.
 */
export const RATE_SLOT_SCRIPT = new RedisScript(
  'rate-slot',
  `
-- KEYS[1]  _taskq.rate.<task name>: the next free slot, epoch ms
-- ARGV[1]  ms between two starts      ARGV[2]  the longest wait for which the slot is taken
-- Returns: ms to wait before starting (0: now); the slot is taken only when that is <= ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
local wait = slot - now
local interval = tonumber(ARGV[1])
if wait <= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', math.floor(wait + interval + 60000))
end
return wait
`,
);

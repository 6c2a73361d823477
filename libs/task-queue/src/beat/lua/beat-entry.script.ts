import { RedisScript } from '../../transports/redis/redis-script';

/**
 * beat-upsert: creates or updates an entry. The same definition changes nothing (every replica
 * upserts its code entries at boot, in any order); a new one resets next-due; a pause, the run
 * count and the last run are kept.
 */
export const BEAT_UPSERT_SCRIPT = new RedisScript(
  'beat-upsert',
  `
-- KEYS[1] entry hash   KEYS[2] due zset   KEYS[3] names set
-- ARGV[1] name   ARGV[2] entry JSON   ARGV[3] source   ARGV[4] next ('' = none)
local cur = redis.call('HMGET', KEYS[1], 'entry', 'source', 'paused')
redis.call('SADD', KEYS[3], ARGV[1])
if cur[1] == ARGV[2] and cur[2] == ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'entry', ARGV[2], 'source', ARGV[3])
if not cur[1] then redis.call('HSET', KEYS[1], 'paused', '0', 'runs', '0') end
if cur[3] == '1' then return 1 end
redis.call('HSET', KEYS[1], 'next', ARGV[4])
if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[1]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) end
return 1
`,
);

/** beat-pause: pauses (out of the due set) or resumes (due at ARGV[3]) an entry; 0 when it does not exist. */
export const BEAT_PAUSE_SCRIPT = new RedisScript(
  'beat-pause',
  `
-- KEYS[1] entry hash   KEYS[2] due zset   ARGV[1] name   ARGV[2] '1' pause / '0' resume   ARGV[3] next
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'paused', '1', 'next', '')
  redis.call('ZREM', KEYS[2], ARGV[1])
elseif redis.call('HGET', KEYS[1], 'paused') == '1' then
  redis.call('HSET', KEYS[1], 'paused', '0', 'next', ARGV[3])
  if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
end
return 1
`,
);

/** beat-remove: deletes an entry everywhere; 0 when it did not exist. */
export const BEAT_REMOVE_SCRIPT = new RedisScript(
  'beat-remove',
  `
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
return redis.call('DEL', KEYS[1])
`,
);

/**
 * beat-due: the store clock (TIME) and the entries due by it, in one round trip, so every replica
 * plans from Redis's clock, not its own. Cost: O(log N + due), not O(entries).
 */
export const BEAT_DUE_SCRIPT = new RedisScript(
  'beat-due',
  `
-- KEYS[1] due zset   ARGV[1] max entries
-- Returns { now ms, earliest later due ms or '', name... }
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local names = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local later = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
local out = { tostring(now), later[2] or '' }
for i = 1, #names do out[#out + 1] = names[i] end
return out
`,
);

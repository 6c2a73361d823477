import { RedisScript } from '../../../transports/redis/redis-script';

/**
 * chord-part: one chord header task's outcome, counted atomically in Celery's layout
 * (celery-wire.md 5.5), so Python and Node workers can share one chord.
 *
 * Celery's own step (ZADD .j, ZCOUNT .j, GET .t, GET .s, EXPIRE) counts a redelivered task twice
 * and can fire twice; here a task counts once (its id is remembered in our hash) and the one call
 * that completes the chord marks it done, so the body is sent exactly once.
 */
export const CHORD_PART_SCRIPT = new RedisScript(
  'chord-part',
  `
-- KEYS[1] <gid>.j (zset of parts)   KEYS[2] <gid>.t (added parts)   KEYS[3] <gid>.s (header size)
-- KEYS[4] <gid>.taskq (hash: 'done' once fired or closed; 'id:<task id>' per counted task)
-- ARGV[1] task id   ARGV[2] score (group_index, or '+inf')   ARGV[3] member '[1, id, state, result]'
-- ARGV[4] seconds to keep the keys, 0 = forever
-- Returns: the list of parts (ordered by index) for the call that completed the chord, else nil
if redis.call('HGET', KEYS[4], 'done') then return false end
if redis.call('HSETNX', KEYS[4], 'id:' .. ARGV[1], '1') == 1 then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
end
local ttl = tonumber(ARGV[4])
if ttl and ttl > 0 then
  for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ttl) end
end
local size = redis.call('GET', KEYS[3])
if not size then return false end
local total = tonumber(size) + tonumber(redis.call('GET', KEYS[2]) or '0')
if redis.call('ZCOUNT', KEYS[1], '-inf', '+inf') < total then return false end
redis.call('HSET', KEYS[4], 'done', '1')
local parts = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return parts
`,
);

/** close-chord: marks an unfinished chord done (its timeout passed), so no part can fire it afterwards. */
export const CLOSE_CHORD_SCRIPT = new RedisScript(
  'close-chord',
  `
-- KEYS[1] <gid>.s   KEYS[2] <gid>.taskq
-- Returns: 1 when this call closed the chord; 0 when it had fired, was closed, or is unknown
if redis.call('HGET', KEYS[2], 'done') then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'done', '1')
return 1
`,
);

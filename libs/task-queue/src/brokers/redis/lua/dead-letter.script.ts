import { RedisScript } from '../../../transports/redis/redis-script';

/**
 * dead-letter: takes a delivered message out of unacked and pushes its record onto the queue's
 * dead-letter list, atomically. Pushes only when the entry was still there: if a restore already
 * returned it to its queue, it will be delivered (and judged) again rather than stored twice.
 */
export const DEAD_LETTER_SCRIPT = new RedisScript(
  'dead-letter',
  `
-- KEYS[1]  unacked (hash)      KEYS[2]  unacked_index (zset)      KEYS[3]  dead-letter list
-- ARGV[1]  delivery_tag        ARGV[2]  the JSON record to LPUSH (newest first)
-- Returns: 1 dead-lettered, 0 the entry was gone
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[3], ARGV[2])
return 1
`,
);

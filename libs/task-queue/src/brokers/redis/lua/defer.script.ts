import { RedisScript } from '../../../transports/redis/redis-script';

/**
 * defer: takes a delivered message out of unacked and puts it in its queue's delayed set, in one
 * atomic step, so at every instant it is in exactly one of the two (a crash loses nothing, and a
 * restorer cannot deliver it while it waits). Used for eta messages that arrived on the list (sent
 * by Python clients) and for rate-limited starts. Adds nothing when the unacked entry is already
 * gone: a restore put it back on the queue, and it must not exist twice.
 */
export const DEFER_SCRIPT = new RedisScript(
  'defer',
  `
-- KEYS[1]  unacked (hash)      KEYS[2]  unacked_index (zset)      KEYS[3]  the queue's delayed set (zset)
-- ARGV[1]  delivery_tag        ARGV[2]  due time, ms since the epoch (the score)
-- ARGV[3]  the envelope text as it was on the list (the member)
-- Returns: 1 moved, 0 the entry was gone
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return 1
`,
);

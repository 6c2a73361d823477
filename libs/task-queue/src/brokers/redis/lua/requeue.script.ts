import { RedisScript } from '../../../transports/redis/redis-script';

/**
 * requeue: moves one unacked message back to its queue(s), only if `unacked` still holds exactly
 * the value we read (compare-and-move). Used by the visibility-timeout restore, by close() for this
 * consumer's unsettled deliveries, and by reject(requeue). Atomic, so a crash cannot both drop
 * the entry and skip the push, and two restorers cannot push the same message twice.
 */
export const REQUEUE_SCRIPT = new RedisScript(
  'requeue',
  `
-- KEYS[1]  unacked (hash)      KEYS[2]  unacked_index (zset)
-- KEYS[3..] target lists (none: only drop the entry, e.g. an index member without a hash value)
-- ARGV[1]  delivery_tag
-- ARGV[2]  the unacked value read before (empty string: expect no value)
-- ARGV[3]  the item to push (the envelope marked redelivered)
-- ARGV[4]  "R" to RPUSH (restore: served next, as kombu) or "L" to LPUSH (reject: back of the line)
-- Returns: 1 moved, 0 skipped (acked or restored by someone else meanwhile)
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if (cur or '') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
local push = 'RPUSH'
if ARGV[4] == 'L' then push = 'LPUSH' end
for i = 3, #KEYS do
  redis.call(push, KEYS[i], ARGV[3])
end
return 1
`,
);

import { RedisScript } from '../../../transports/redis/redis-script';
import { STORE_ONE_LUA } from '../../../transports/redis/result-write';

/**
 * ack-store: stores the results of a batch of tasks, THEN acks a batch of messages, in one atomic
 * script and one round trip, when broker and result backend share a Redis server and db.
 * The result part is store-result.script.ts's (Celery's `_store_result`: a stored SUCCESS is kept,
 * else SETEX, or SET without expiry, and PUBLISH on the channel named like the key); the ack part is
 * the AckBatcher's (ZREM unacked_index, HDEL unacked). Being one script, no crash can ack a message
 * whose result is not stored.
 */
export const ACK_STORE_SCRIPT = new RedisScript(
  'ack-store',
  `${STORE_ONE_LUA}
-- KEYS[1]  unacked_index (zset)   KEYS[2]  unacked (hash)
-- KEYS[2+i]  celery-task-meta-<id> of result i (also its channel), i = 1..m
-- ARGV[1]  m     ARGV[1+2i-1]  meta JSON of result i     ARGV[1+2i]  its seconds to keep, 0 = forever
-- ARGV[2+2m ..]  the delivery tags to ack
local m = tonumber(ARGV[1])
for i = 1, m do
  store_one(KEYS[2 + i], ARGV[2 * i], tonumber(ARGV[2 * i + 1]))
end
local first = 2 + 2 * m
if #ARGV >= first then
  local tags = {}
  for i = first, #ARGV do tags[#tags + 1] = ARGV[i] end
  for i = 1, #tags, 4000 do
    local chunk = {unpack(tags, i, math.min(i + 3999, #tags))}
    redis.call('ZREM', KEYS[1], unpack(chunk))
    redis.call('HDEL', KEYS[2], unpack(chunk))
  end
end
return m
`,
);

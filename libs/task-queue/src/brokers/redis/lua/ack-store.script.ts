import { RedisScript } from '../../../transports/redis/redis-script';

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
  `
-- KEYS[1]  unacked_index (zset)   KEYS[2]  unacked (hash)
-- KEYS[2+i]  celery-task-meta-<id> of result i (also its channel), i = 1..m
-- ARGV[1]  m     ARGV[1+2i-1]  meta JSON of result i     ARGV[1+2i]  its seconds to keep, 0 = forever
-- ARGV[2+2m ..]  the delivery tags to ack
local m = tonumber(ARGV[1])
for i = 1, m do
  local key, json, ttl = KEYS[2 + i], ARGV[2 * i], tonumber(ARGV[2 * i + 1])
  local keep = false
  local cur = redis.call('GET', key)
  if cur then
    local ok, meta = pcall(cjson.decode, cur)
    if ok and type(meta) == 'table' and meta.status == 'SUCCESS' then keep = true end
    if not ok and string.find(cur, '"status":%s*"SUCCESS"') then keep = true end
  end
  if not keep then
    if ttl and ttl > 0 then
      redis.call('SETEX', key, ttl, json)
    else
      redis.call('SET', key, json)
    end
    redis.call('PUBLISH', key, json)
  end
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

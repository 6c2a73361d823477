import { RedisScript } from '../../../transports/redis/redis-script';

/**
 * store-result: Celery's `_store_result` in one atomic step and one round trip: keep a stored
 * SUCCESS (Celery never overwrites one), else SETEX (SET when no expiry) and PUBLISH the same JSON
 * on the channel named like the key, which `AsyncResult.get()` waits on (celery-wire.md 5.2, 5.4).
 */
export const STORE_RESULT_SCRIPT = new RedisScript(
  'store-results',
  `
-- KEYS[i]  celery-task-meta-<task id> of result i (also its Pub/Sub channel), i = 1..n
-- ARGV[i]  the meta JSON of result i      ARGV[n + 1]  seconds to keep them, 0 = forever
-- Stores every result of one batch in one call (one command, one reply, whatever the batch size).
-- Returns: a list of n flags, 1 stored and published, 0 skipped because a SUCCESS is stored
local n = #KEYS
local ttl = tonumber(ARGV[n + 1])
local out = {}
for i = 1, n do
  local keep = false
  local cur = redis.call('GET', KEYS[i])
  if cur then
    local ok, m = pcall(cjson.decode, cur)
    if ok and type(m) == 'table' and m.status == 'SUCCESS' then keep = true end
    if not ok and string.find(cur, '"status":%s*"SUCCESS"') then keep = true end
  end
  if keep then
    out[i] = 0
  else
    if ttl and ttl > 0 then
      redis.call('SETEX', KEYS[i], ttl, ARGV[i])
    else
      redis.call('SET', KEYS[i], ARGV[i])
    end
    redis.call('PUBLISH', KEYS[i], ARGV[i])
    out[i] = 1
  end
end
return out
`,
);

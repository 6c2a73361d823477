import { RedisScript } from '../../../transports/redis/redis-script';
import { STORE_ONE_LUA } from '../../../transports/redis/result-write';

/**
 * store-result: Celery's `_store_result` in one atomic step and one round trip: keep a stored
 * SUCCESS (Celery never overwrites one), else SETEX (SET when no expiry) and PUBLISH the same JSON
 * on the channel named like the key, which `AsyncResult.get()` waits on (celery-wire.md 5.2, 5.4).
 */
export const STORE_RESULT_SCRIPT = new RedisScript(
  'store-results',
  `${STORE_ONE_LUA}
-- KEYS[i]  celery-task-meta-<task id> of result i (also its Pub/Sub channel), i = 1..n
-- ARGV[i]  the meta JSON of result i      ARGV[n + 1]  seconds to keep them, 0 = forever
-- Stores every result of one batch in one call (one command, one reply, whatever the batch size).
-- Returns: a list of n flags, 1 stored and published, 0 skipped because a SUCCESS is stored
local n = #KEYS
local ttl = tonumber(ARGV[n + 1])
local out = {}
for i = 1, n do
  out[i] = store_one(KEYS[i], ARGV[i], ttl)
end
return out
`,
);

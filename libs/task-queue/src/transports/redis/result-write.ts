import { RedisEndpoint } from './redis-url';

/**
 * A Celery result ready to be written (`celery-task-meta-<id>` SETEX + PUBLISH), handed by the Redis
 * result backend to a Redis broker delivery so that the store and the ack go out in ONE script when
 * both live on the same server and db (`server` says which).
 */
export interface RedisResultWrite {
  server: string;
  key: string;
  json: string;
  /** Seconds to keep it; 0 = forever. */
  ttl: number;
}

/** A delivery that can ack itself together with a result write; null when it cannot (other server, already settled). */
export interface AcksWithResult {
  ackWithResult?(write: RedisResultWrite): Promise<void> | null;
}

/**
 * Which Redis server and db an endpoint addresses, as far as the URLs tell: the same string means
 * one script may touch both the broker's and the backend's keys. Credentials are left out.
 */
export function redisServerId(e: RedisEndpoint): string {
  if (e.sentinel) {
    const s = e.sentinel.sentinels.map((x) => `${x.host}:${x.port}`).sort();
    return `sentinel:${e.sentinel.name}@${s.join(',')}/${e.db}`;
  }
  return `${e.tls ? 'rediss' : 'redis'}://${e.host.toLowerCase()}:${e.port}/${e.db}`;
}

/**
 * Celery's `_store_result` for one key, as a Lua function shared by the backend's store-result script
 * and the broker's ack-store script: keep a stored SUCCESS (Celery never overwrites one), else SETEX
 * (SET when ttl is 0) and PUBLISH the same JSON on the channel named like the key. Returns 1 when
 * stored and published, 0 when skipped.
 */
export const STORE_ONE_LUA = `
local function store_one(key, json, ttl)
  local cur = redis.call('GET', key)
  if cur then
    local ok, m = pcall(cjson.decode, cur)
    if ok and type(m) == 'table' and m.status == 'SUCCESS' then return 0 end
    if not ok and string.find(cur, '"status":%s*"SUCCESS"') then return 0 end
  end
  if ttl and ttl > 0 then
    redis.call('SETEX', key, ttl, json)
  else
    redis.call('SET', key, json)
  end
  redis.call('PUBLISH', key, json)
  return 1
end
`;

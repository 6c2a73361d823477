import type { RedisOptions } from 'ioredis';
import type { RedisEndpoint } from './redis-url';

/**
 * ioredis options for a Sentinel-managed master: ioredis asks the Sentinels for the master at each
 * (re)connect, so after a failover our reconnect loop lands on the new master by itself.
 * `READONLY` replies (a demoted master still answering) force a reconnect, hence a new lookup.
 */
export function sentinelConnectionOptions(endpoint: RedisEndpoint, reconnectMaxDelay: number): Partial<RedisOptions> {
  const s = endpoint.sentinel;
  if (!s) return {};
  return {
    sentinels: s.sentinels,
    name: s.name,
    role: 'master',
    sentinelPassword: s.sentinelPassword,
    sentinelUsername: s.sentinelUsername,
    sentinelRetryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times - 1, 10), reconnectMaxDelay),
    reconnectOnError: (err: Error) => (/READONLY/.test(err.message) ? 2 : false),
    // Sentinels can point to a just-killed master for a few seconds; fail such attempts fast.
    connectTimeout: 2000,
  };
}

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

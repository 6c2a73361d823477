import { ConfigurationError } from '../../errors';
import { maskUrl } from '../url-mask';
import { parseBrokerUrl } from '../broker-url';
import { SentinelEndpoint, SentinelOptions, parseSentinelUrl } from './redis-sentinel.endpoint';

/** What a `redis://` or `rediss://` URL says, ready for ioredis. */
export interface RedisEndpoint {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  /** TLS options when the URL is rediss://, else false. */
  tls: false | import('node:tls').ConnectionOptions;
  /** For sentinel:// URLs: the Sentinels and the master name (host/port are then unused). */
  sentinel?: SentinelEndpoint;
}

/**
 * Parses `redis://[user:password@]host:port/db` and `rediss://…` (TLS). The path is the Redis DB
 * number (kombu's "virtual host"), default 0; user and password are percent-decoded.
 */
export function parseRedisUrl(
  url: string,
  tls: import('node:tls').ConnectionOptions = {},
  sentinelOptions?: SentinelOptions,
): RedisEndpoint {
  if (/^sentinel:/i.test(url.trim()))
    return { host: '', port: 0, tls: false, ...parseSentinelUrl(url, sentinelOptions) };
  parseBrokerUrl(url, 'The Redis URL'); // refuses raw reserved characters in the password, masked
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigurationError(
      `"${maskUrl(url)}" is not a valid Redis URL. Expected redis://[user:password@]host:port/db or rediss://….`,
    );
  }
  const scheme = u.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') {
    throw new ConfigurationError(`"${maskUrl(url)}" is not a Redis URL: the scheme must be redis:// or rediss://.`);
  }
  const path = u.pathname.replace(/^\/+/, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0) {
    throw new ConfigurationError(`"${maskUrl(url)}": the path must be a Redis DB number (e.g. /0), got "/${path}".`);
  }
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db,
    tls: scheme === 'rediss' ? { ...tls } : false,
  };
}

import { ConfigurationError } from '../../errors';
import { maskBrokerUrl, parseBrokerUrl } from '../broker-url';

/** Where the Sentinels are and which master they watch, ready for ioredis. */
export interface SentinelEndpoint {
  sentinels: { host: string; port: number }[];
  /** The master's name in the Sentinels' configuration. */
  name: string;
  /** Password (and user) of the Sentinels themselves (kombu: `sentinel_kwargs`). */
  sentinelPassword?: string;
  sentinelUsername?: string;
}

/** What the Redis options may add to a `sentinel://` URL. */
export interface SentinelOptions {
  masterName?: string;
  sentinelPassword?: string;
  sentinelUsername?: string;
}

/**
 * Reads kombu's Sentinel URL: `sentinel://[user:password@]host:port[/db];sentinel://host2:port2…`.
 * The user/password authenticate to the master (as in kombu); the master name comes from
 * `?master_name=` or the option `redis.masterName` (Celery: `broker_transport_options.master_name`),
 * the Sentinels' own password from `?sentinel_password=` or `redis.sentinelPassword`
 * (Celery: `sentinel_kwargs.password`). The DB is the first entry's path.
 */
export function parseSentinelUrl(
  url: string,
  options: SentinelOptions = {},
): { db: number; username?: string; password?: string; sentinel: SentinelEndpoint } {
  const { entries } = parseBrokerUrl(url, 'The Sentinel URL');
  const query = Object.assign({}, ...entries.map((e) => e.query)) as Record<string, string>;
  const name = query.master_name || options.masterName;
  if (!name) {
    throw new ConfigurationError(
      `${maskBrokerUrl(url)}: a sentinel:// URL needs the master's name: add ?master_name=NAME to the URL or set redis.masterName ` +
        "(Celery: broker_transport_options={'master_name': NAME}).",
    );
  }
  const first = entries[0];
  const db = first.path === '' ? 0 : Number(first.path);
  if (!Number.isInteger(db) || db < 0)
    throw new ConfigurationError(`${maskBrokerUrl(url)}: the path must be a Redis DB number (e.g. /0).`);
  return {
    db,
    username: entries.find((e) => e.username)?.username,
    password: entries.find((e) => e.password !== undefined)?.password,
    sentinel: {
      sentinels: entries.map((e) => ({ host: e.hostname || '127.0.0.1', port: e.port ?? 26379 })),
      name,
      sentinelPassword: query.sentinel_password || options.sentinelPassword,
      sentinelUsername: query.sentinel_username || options.sentinelUsername,
    },
  };
}

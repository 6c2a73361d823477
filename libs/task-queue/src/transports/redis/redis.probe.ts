import type Redis from 'ioredis';
import { BrokerAuthenticationError, BrokerPermissionError } from '../../errors';
import { BrokerUrlEntry, maskBrokerUrl } from '../broker-url';
import { loadIoredis } from '../../peers/ioredis.loader';

/** Why a probe failed: `auth` and `permission` stop the worker, `unreachable` is retried. */
export type ProbeFailure = 'auth' | 'permission' | 'unreachable';

/** Matches the replies Redis gives to bad credentials. */
export const REDIS_AUTH_ERROR = /WRONGPASS|NOAUTH|invalid username-password|invalid password/i;

/**
 * The commands (and a key each) the Redis broker and result backend send, directly or from their Lua
 * scripts (SUBSCRIBE and PSUBSCRIBE are tried for real, see below). Each is queued inside MULTI and the transaction discarded: Redis checks ACLs when a
 * command is queued, so a NOPERM answer names what is missing while nothing runs. This works on
 * Redis 6.0+ and needs no admin right (ACL DRYRUN needs `+acl|dryrun`, which an app user lacks).
 */
function probes(key: string, metaKey: string): [string, ...string[]][] {
  return [
    ['LPUSH', key, 'x'],
    ['RPOP', key],
    ['BRPOP', key, '1'],
    ['BLMOVE', key, key, 'RIGHT', 'RIGHT', '1'],
    ['LLEN', key],
    ['LRANGE', key, '0', '0'],
    ['EVALSHA', '0'.repeat(40), '1', key],
    ['EVAL', 'return 1', '1', key],
    ['SCRIPT', 'LOAD', 'return 1'],
    ['ZADD', `${key}.z`, '1', 'x'],
    ['ZREM', `${key}.z`, 'x'],
    ['ZRANGE', `${key}.z`, '0', '0'],
    ['ZRANGEBYSCORE', `${key}.z`, '0', '1'],
    ['ZCARD', `${key}.z`],
    ['HSET', `${key}.h`, 'f', 'v'],
    ['HGET', `${key}.h`, 'f'],
    ['HDEL', `${key}.h`, 'f'],
    ['SADD', `${key}.s`, 'x'],
    ['SMEMBERS', `${key}.s`],
    ['SET', metaKey, 'x'],
    ['GET', metaKey],
    ['MGET', metaKey],
    ['SETEX', metaKey, '1', 'x'],
    ['EXPIRE', metaKey, '1'],
    ['DEL', metaKey],
    ['PUBLISH', metaKey, 'x'],
    // Inside scripts: the reserve sent behind a wait, rate limits and beat read the server's clock.
    ['TIME'],
  ];
}

/** Opens one short-lived connection: throws on bad credentials or missing ACL rights, else resolves. */
export async function probeRedis(
  entry: BrokerUrlEntry,
  opts: {
    tls?: import('node:tls').ConnectionOptions;
    key: string;
    metaKey: string;
    timeoutMs: number;
    where?: string;
    extra?: Partial<import('ioredis').RedisOptions>;
  },
): Promise<void> {
  // Loaded here: only Redis users load ioredis.
  const IORedis = loadIoredis('A redis:// URL');
  const where = opts.where ?? maskBrokerUrl(entry.raw);
  const user = entry.username ?? 'default';
  const conn: Redis = new IORedis({
    host: entry.hostname || '127.0.0.1',
    port: entry.port ?? 6379,
    username: entry.username,
    password: entry.password,
    db: entry.path ? Number(entry.path) || 0 : 0,
    tls: entry.scheme === 'rediss' ? { ...opts.tls } : undefined,
    lazyConnect: true,
    enableReadyCheck: false,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: opts.timeoutMs,
    protocol: 2,
    connectionName: `taskq:probe:${process.pid}`,
    ...opts.extra,
  });
  // ioredis reports a failed connect as "Connection is closed."; the cause came as an 'error' event.
  let cause: Error | null = null;
  conn.on('error', (e: Error) => (cause ??= e));
  try {
    await conn.connect();
    await conn.ping();
    await checkAcl(conn, user, where, opts.key, opts.metaKey);
  } catch (err) {
    if (err instanceof BrokerPermissionError) throw err;
    const message = (cause ?? (err as Error)).message ?? String(err);
    if (REDIS_AUTH_ERROR.test(message))
      throw new BrokerAuthenticationError(user, where, message.replace(/[.\s]+$/, ''));
    throw cause ?? err;
  } finally {
    conn.disconnect();
  }
}

async function checkAcl(conn: Redis, user: string, where: string, key: string, metaKey: string): Promise<void> {
  const missing: string[] = [];
  await conn.call('MULTI').catch((e: Error) => {
    if (/NOPERM/.test(e.message)) missing.push('MULTI');
    else throw e;
  });
  if (missing.length) throw new BrokerPermissionError(user, where, missing, HINT);
  try {
    for (const [cmd, ...args] of probes(key, metaKey)) {
      try {
        await conn.call(cmd, ...args);
      } catch (e) {
        const m = (e as Error).message;
        if (/NOPERM/.test(m))
          missing.push(
            /key/i.test(m)
              ? `${cmd} (key ${cmd.startsWith('EVAL') ? args[2] : args[0]})`
              : /channel/i.test(m)
                ? `${cmd} (channel)`
                : cmd,
          );
      }
    }
  } finally {
    await conn.call('DISCARD').catch(() => undefined);
  }
  // SUBSCRIBE cannot be queued through ioredis (it would enter subscriber mode on "QUEUED"): run it
  // for real, last, on this throw-away connection.
  for (const [cmd, run] of [
    ['SUBSCRIBE', () => conn.subscribe(metaKey)],
    ['PSUBSCRIBE', () => conn.psubscribe(`${metaKey}*`)],
  ] as const) {
    await run().catch((e: Error) => {
      if (/NOPERM/.test(e.message)) missing.push(cmd);
    });
  }
  if (missing.length) throw new BrokerPermissionError(user, where, missing, HINT);
}

const HINT =
  'Grant them (e.g. `ACL SETUSER <user> +@list +@sortedset +@hash +@set +@string +@keyspace +@pubsub +@scripting +@transaction +time ~* &*`, ' +
  'see docs/operations.md), or use another user.';

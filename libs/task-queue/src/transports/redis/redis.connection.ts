import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { BrokerUnavailableError } from '../../errors';
import { loadIoredis } from '../../peers/ioredis.loader';
import { RedisEndpoint } from './redis-url';
import { sentinelConnectionOptions } from './redis-sentinel.options';

/**
 * One ioredis connection per role (`commands`, `consume`, `subscribe`), never one per task.
 *
 * Protocol: RESP2 (`protocol: 2`), chosen on purpose although ioredis 6 defaults to RESP3:
 * - the replies of our Lua scripts and of ZRANGEBYSCORE/HMGET have the same shapes on every server
 *   (Redis 5 has no RESP3, and kombu/redis-py 4.x speak RESP2 to the same keys);
 * - a RESP2 subscriber connection does nothing but Pub/Sub, which is exactly the role split we
 *   want; RESP3's ability to mix commands and pushes on one socket buys us nothing here.
 *
 * Reconnects use exponential backoff (100 ms doubling, capped by `reconnectMaxDelay`), forever.
 * `autoResendUnfulfilledCommands` and `enableOfflineQueue` are off: nothing is replayed or sent
 * later behind our back. A replayed reserve script would pop a second batch while the first
 * one's reply is lost, and a publish queued offline would still be sent after we told the caller
 * it failed. Instead `untilClosed()` fails such a command and the caller decides (retry, recover),
 * and callers wait for `ready` (ReadyGate) before they send.
 */
export function createRedisConnection(
  endpoint: RedisEndpoint,
  role: string,
  health: RedisHealth,
  reconnectMaxDelay = 2000,
): Redis {
  const RedisClient = loadIoredis();
  const conn = new RedisClient({
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    password: endpoint.password,
    db: endpoint.db,
    tls: endpoint.tls || undefined,
    protocol: 2,
    connectionName: `taskq:${role}:${process.pid}`,
    maxRetriesPerRequest: null,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times - 1, 10), reconnectMaxDelay),
    ...sentinelConnectionOptions(endpoint, reconnectMaxDelay),
  });
  conn.on('ready', () => health.up(role));
  conn.on('close', () => {
    if (!closing.has(conn)) health.down(role, null);
  });
  // An 'error' listener is required, or ioredis prints every failed retry itself.
  conn.on('error', (err: Error) => {
    if (!closing.has(conn)) health.down(role, err);
  });
  return conn;
}

const closing = new WeakSet<Redis>();

/** Closes a connection on purpose (QUIT when it is up, else drop it), without logging an outage. */
export async function closeConnection(conn: Redis, now = false): Promise<void> {
  closing.add(conn);
  if (conn.status === 'end') return;
  if (now || conn.status !== 'ready') {
    conn.disconnect();
    return;
  }
  await Promise.race([conn.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
  if ((conn.status as string) !== 'end') conn.disconnect();
}

/**
 * Runs an idempotent command (or script) once the connection is ready, and again when the socket
 * closes before its reply, until `deadline` (a Date.now() value, or Infinity).
 */
export async function withReconnect<T>(
  conn: Redis,
  gate: ReadyGate,
  deadline: number,
  what: () => string,
  op: () => Promise<T>,
): Promise<T> {
  for (;;) {
    await gate.wait(deadline, what);
    try {
      return await untilClosed(conn, op());
    } catch (err) {
      if (!(err instanceof ConnectionLostError) || Date.now() >= deadline) throw err;
    }
  }
}

/** withReconnect, but a connection still lost at the deadline becomes BrokerUnavailableError saying `what`. */
export async function withReconnectOrUnavailable<T>(
  conn: Redis,
  gate: ReadyGate,
  deadline: number,
  what: () => string,
  op: () => Promise<T>,
): Promise<T> {
  try {
    return await withReconnect(conn, gate, deadline, what, op);
  } catch (err) {
    if (err instanceof ConnectionLostError) throw new BrokerUnavailableError(what(), { cause: err });
    throw err;
  }
}

/**
 * Logs a broker outage once when it starts and once when it ends, however many connections and
 * retries it spans. The URL is already masked.
 */
export class RedisHealth {
  private readonly downRoles = new Set<string>();
  private readonly everUp = new Set<string>();
  private lastError: Error | null = null;
  private outage = false;

  constructor(
    private readonly logger: Logger,
    private readonly maskedUrl: string,
  ) {}

  down(role: string, err: Error | null): void {
    if (err) this.lastError = err;
    this.downRoles.add(role);
    if (!this.outage && (this.everUp.has(role) || err)) {
      this.outage = true;
      const why = err ? `: ${err.message}` : '';
      this.logger.warn(
        `Redis at ${this.maskedUrl} is unreachable${why}. Reconnecting with backoff; consuming resumes when it is back.`,
      );
    }
  }

  up(role: string): void {
    this.everUp.add(role);
    this.downRoles.delete(role);
    if (this.outage && this.downRoles.size === 0) {
      this.outage = false;
      this.logger.log(`Redis at ${this.maskedUrl} is reachable again.`);
    }
  }

  describeLastError(): string {
    return this.lastError ? ` (last error: ${this.lastError.message})` : '';
  }
}

/** Per connection, the callbacks of the commands in flight: ONE 'close' listener serves them all. */
const inFlight = new WeakMap<Redis, Set<() => void>>();

/** Rejects when the connection closes before `op` settles: a reply that will never come. */
export function untilClosed<T>(conn: Redis, op: Promise<T>): Promise<T> {
  let waiting = inFlight.get(conn);
  if (!waiting) {
    const set = new Set<() => void>();
    inFlight.set(conn, (waiting = set));
    conn.on('close', () => {
      const all = [...set];
      set.clear();
      for (const fail of all) fail();
    });
  }
  const pending = waiting;
  return new Promise<T>((resolve, reject) => {
    const fail = () => reject(new ConnectionLostError());
    pending.add(fail);
    op.then(
      (v) => {
        pending.delete(fail);
        resolve(v);
      },
      (e: Error) => {
        pending.delete(fail);
        // Not sent at all (the socket died, 'close' not emitted yet). Report it a moment later, so
        // a caller that retries at once does not spin before the 'close' event can run.
        if (NOT_WRITABLE.test(e?.message ?? '')) setTimeout(() => reject(new ConnectionLostError()), 5);
        else reject(e);
      },
    );
  });
}

const NOT_WRITABLE = /Stream isn't writeable/;

/** The socket closed with a command in flight; whether it ran is unknown. */
export class ConnectionLostError extends Error {
  constructor() {
    super('The Redis connection closed before the reply arrived.');
    this.name = 'ConnectionLostError';
  }
}

/**
 * Waits until a connection is `ready`, bounded by a deadline. All waiters share one timer (set to
 * the earliest deadline), and the fast path, a ready connection, sets none: no timer per publish.
 */
export class ReadyGate {
  private waiters: { deadline: number; resolve: () => void; reject: (e: Error) => void; what: () => string }[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Set when a bounded wait timed out; until 'ready', bounded waits fail at once (an api answers 503 fast). */
  private tripped = false;

  constructor(private readonly conn: Redis) {
    conn.on('ready', () => this.release());
  }

  /** `deadline` is a Date.now() value, or Infinity to wait as long as it takes. `what` explains a timeout. */
  wait(deadline: number, what: () => string): Promise<void> {
    if (this.conn.status === 'ready') return Promise.resolve();
    if (this.conn.status === 'end')
      return Promise.reject(new BrokerUnavailableError(`${what()} The connection is closed.`));
    if (this.tripped && Number.isFinite(deadline))
      return Promise.reject(
        new BrokerUnavailableError(`${what()} (still unreachable: failing at once until it is back).`),
      );
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ deadline, resolve, reject, what });
      this.arm();
    });
  }

  /** Fails every waiter now (used by close()). */
  failAll(err: Error): void {
    const ws = this.waiters;
    this.waiters = [];
    this.disarm();
    for (const w of ws) w.reject(err);
  }

  private release(): void {
    this.tripped = false;
    const ws = this.waiters;
    this.waiters = [];
    this.disarm();
    for (const w of ws) w.resolve();
  }

  private arm(): void {
    this.disarm();
    if (!this.waiters.length) return;
    const next = Math.min(...this.waiters.map((w) => w.deadline));
    if (!Number.isFinite(next)) return;
    this.timer = setTimeout(() => this.expire(), Math.max(0, next - Date.now()));
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private expire(): void {
    const now = Date.now();
    const late = this.waiters.filter((w) => w.deadline <= now);
    this.waiters = this.waiters.filter((w) => w.deadline > now);
    if (late.length) this.tripped = true;
    for (const w of late) w.reject(new BrokerUnavailableError(w.what()));
    this.arm();
  }
}

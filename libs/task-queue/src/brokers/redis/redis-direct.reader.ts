import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisKeys } from './redis-keys';
import { RedisEndpoint } from '../../transports/redis/redis-url';
import {
  ConnectionLostError,
  ReadyGate,
  RedisHealth,
  closeConnection,
  createRedisConnection,
  untilClosed,
  withReconnect,
} from '../../transports/redis/redis.connection';
import { watchBlocking } from '../../transports/redis/blocking.watchdog';

/** Gets each item popped from one of the lists it was added with. */
export type ListItemListener = (list: string, item: string) => void;

/** How long the wake token lives if nobody pops it (the process died): it must not linger. */
const WAKE_TTL_MS = 60_000;

/**
 * ONE blocking connection per broker that reads the queues of every direct-exchange listener
 * (Celery's reply queues `<oid>.reply.celery.pidbox`): `BRPOP <wake> <lists…> <blockTimeout>`, as
 * kombu's client BRPOPs its reply queue.
 *
 * A new listener must be read at once (a reply may follow within milliseconds), but the BRPOP in
 * flight does not name its list yet. So add() pushes a token onto this reader's own wake list,
 * which that BRPOP also names: it returns, and the next one names the new list. A pushed token
 * cannot be missed, unlike CLIENT UNBLOCK, which is lost when it reaches the server before the
 * BRPOP does. A removed listener needs no wake: its lists drop out of the next BRPOP.
 */
export class DirectQueueReader {
  private readonly id = randomUUID();
  private readonly wakeKey: string;
  private conn: Redis | null = null;
  private gate: ReadyGate | null = null;
  private readonly lists = new Map<string, ListItemListener>();
  private running: Promise<void> | null = null;
  private closed = false;
  private idle: (() => void) | null = null;

  constructor(
    private readonly endpoint: RedisEndpoint,
    private readonly health: RedisHealth,
    private readonly reconnectMaxDelay: number,
    private readonly keys: RedisKeys,
    /** The broker's command connection, for the wake token. */
    private readonly cmd: Redis,
    private readonly cmdGate: ReadyGate,
    private readonly blockTimeout: number,
    private readonly logger: Logger,
  ) {
    this.wakeKey = keys.readerWake(this.id);
  }

  /** Starts reading the lists (each list has one listener); resolves once the reader will see them. */
  async add(lists: readonly string[], listener: ListItemListener, deadline: number): Promise<() => void> {
    for (const l of lists) this.lists.set(l, listener);
    this.start();
    await withReconnect(
      this.cmd,
      this.cmdGate,
      deadline,
      () => 'Redis is unreachable: cannot start reading a reply queue.',
      () => this.cmd.multi().lpush(this.wakeKey, '1').pexpire(this.wakeKey, WAKE_TTL_MS).exec(),
    );
    return () => {
      for (const l of lists) if (this.lists.get(l) === listener) this.lists.delete(l);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.lists.clear();
    this.idle?.();
    if (this.conn) await closeConnection(this.conn, true);
    await this.running;
    await withReconnect(
      this.cmd,
      this.cmdGate,
      Date.now() + 1000,
      () => '',
      () => this.cmd.del(this.wakeKey),
    ).catch(() => undefined);
  }

  private start(): void {
    if (this.closed) return;
    this.idle?.();
    if (this.running) return;
    if (!this.conn) {
      this.conn = createRedisConnection(this.endpoint, 'replies', this.health, this.reconnectMaxDelay);
      this.gate = new ReadyGate(this.conn);
    }
    this.running = this.loop().finally(() => (this.running = null));
  }

  private async loop(): Promise<void> {
    const conn = this.conn!;
    let lastError = '';
    while (!this.closed) {
      if (!this.lists.size) {
        // Nothing to read: park until a listener comes (its wake token is then popped at once).
        await new Promise<void>((r) => (this.idle = r));
        this.idle = null;
        continue;
      }
      try {
        await this.gate!.wait(Infinity, () => '');
        const got = await untilClosed(
          conn,
          watchBlocking(conn, conn.brpop(this.wakeKey, ...this.lists.keys(), this.blockTimeout), this.blockTimeout),
        );
        lastError = '';
        if (!got || got[0] === this.wakeKey) continue;
        const listener = this.lists.get(got[0]);
        if (!listener) continue; // its listener stopped a moment ago; a late reply nobody waits for
        try {
          listener(got[0], got[1]);
        } catch (err) {
          this.logger.error(`A reply-queue listener threw: ${(err as Error).message}`);
        }
      } catch (err) {
        if (this.closed) break;
        if (err instanceof ConnectionLostError) continue;
        const msg = (err as Error).message;
        if (msg !== lastError) this.logger.error(`Reading reply queues failed: ${msg}. Retrying.`);
        lastError = msg;
        await new Promise((r) => setTimeout(r, this.blockTimeout * 1000));
      }
    }
  }
}

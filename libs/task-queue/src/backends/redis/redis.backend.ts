import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { ResolvedTaskQueueOptions } from '../../options/resolved-options';
import { maskUrl } from '../../transports/url-mask';
import { ResultMeta, decodeResultMeta, encodeResultMeta } from '../../protocol/result-meta';
import { RedisEndpoint, parseRedisUrl } from '../../transports/redis/redis-url';
import {
  ConnectionLostError,
  ReadyGate,
  RedisHealth,
  closeConnection,
  createRedisConnection,
  withReconnect,
} from '../../transports/redis/redis.connection';
import { ResultBackendUnavailableError } from '../../errors';
import { ChordPart, ResultBackend } from '../result-backend.interface';
import { RedisChordStore } from './redis-chord.store';
import { STORE_RESULT_SCRIPT } from './lua/store-result.script';
import { RedisSubscriber } from '../../transports/redis/redis.subscriber';
import { AcksWithResult, redisServerId } from '../../transports/redis/result-write';

/** This process's `reply_to`: one stable id, as Celery's `thread_oid`. */
const PROCESS_OID = randomUUID();

const META_PREFIX = 'celery-task-meta-';

interface PendingStore {
  key: string;
  json: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Celery's Redis result backend (celery-wire.md 5.2, 5.4): `celery-task-meta-<id>` keys, SETEX +
 * PUBLISH, never overwriting a SUCCESS. The stores of one event-loop turn go out as one pipeline.
 * Two connections: one for commands, one shared subscriber for every waiting result.
 */
export class RedisResultBackend implements ResultBackend {
  readonly name = 'redis';
  readonly replyTo = PROCESS_OID;
  private readonly logger = new Logger('TaskQueueRedis');
  private readonly endpoint: RedisEndpoint;
  private readonly health: RedisHealth;
  private readonly prefix: string;
  /** Which server and db this backend writes to, to store with the ack on a broker sharing it. */
  private readonly server: string;
  private cmd: Redis | null = null;
  private gate: ReadyGate | null = null;
  private readonly subscriber: RedisSubscriber;
  private pending: PendingStore[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly chords: RedisChordStore;

  constructor(
    private readonly url: string,
    private readonly options: ResolvedTaskQueueOptions,
  ) {
    this.endpoint = parseRedisUrl(url, options.redis.tls, options.redis);
    this.health = new RedisHealth(this.logger, maskUrl(url));
    this.prefix = options.redis.keyPrefix;
    this.server = redisServerId(this.endpoint);
    this.chords = new RedisChordStore(this.prefix, () => Math.max(0, Math.floor(this.options.resultExpires)));
    this.subscriber = new RedisSubscriber(this.endpoint, this.health, {
      mode: 'subscribe',
      reconnectMaxDelay: options.redis.reconnectMaxDelay,
      onResubscribed: (channels) => void this.reread(channels),
    });
  }

  describe(): string {
    return maskUrl(this.url);
  }

  async connect(): Promise<void> {
    const { gate } = this.commands();
    const ms = this.options.publishTimeout;
    await gate.wait(
      Date.now() + ms,
      () =>
        `Could not connect to the Redis result backend at ${this.describe()} within ${ms} ms${this.health.describeLastError()}.`,
    );
  }

  store(meta: ResultMeta): Promise<void> {
    if (this.closed)
      return Promise.reject(
        new ResultBackendUnavailableError(
          `Cannot store the result of task ${meta.task_id}: the Redis result backend is closed.`,
        ),
      );
    this.commands();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ key: this.keyOf(meta.task_id), json: encodeResultMeta(meta), resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /**
   * The result and the ack in one script on the broker's connection (same server and db), so a crash
   * can never ack a message whose result is not stored. Null when the delivery cannot (other broker).
   */
  storeWithAck(meta: ResultMeta, delivery: AcksWithResult): Promise<void> | null {
    if (this.closed || !delivery.ackWithResult) return null;
    const ttl = Math.max(0, Math.floor(this.options.resultExpires));
    return delivery.ackWithResult({
      server: this.server,
      key: this.keyOf(meta.task_id),
      json: encodeResultMeta(meta),
      ttl,
    });
  }

  async get(taskId: string): Promise<ResultMeta | null> {
    const json = await this.run(`read the result of task ${taskId}`, (cmd) => cmd.get(this.keyOf(taskId)));
    return json === null ? null : decodeResultMeta(json);
  }

  async subscribe(taskId: string, listener: (meta: ResultMeta) => void): Promise<() => void> {
    const ms = this.options.publishTimeout;
    const onJson = (json: string) => {
      let meta: ResultMeta;
      try {
        meta = decodeResultMeta(json);
      } catch (err) {
        this.logger.warn(`Ignoring an unreadable result published for task ${taskId}: ${(err as Error).message}`);
        return;
      }
      listener(meta);
    };
    return this.subscriber.add(
      this.keyOf(taskId),
      onJson,
      Date.now() + ms,
      () =>
        `Could not wait for the result of task ${taskId}: Redis at ${this.describe()} was unreachable for ${ms} ms.`,
    );
  }

  async forget(taskId: string): Promise<void> {
    await this.run(`forget the result of task ${taskId}`, (cmd) => cmd.del(this.keyOf(taskId)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pending.length) await this.flush().catch(() => undefined);
    await this.subscriber.close();
    if (this.cmd) {
      this.gate!.failAll(new ResultBackendUnavailableError('The Redis result backend is closed.'));
      await closeConnection(this.cmd);
    }
  }

  saveGroup(groupId: string, tuple: unknown[]): Promise<void> {
    return this.run(`save group ${groupId}`, (cmd) => this.chords.saveGroup(cmd, groupId, tuple));
  }

  getGroup(groupId: string): Promise<unknown[] | null> {
    return this.run(`read group ${groupId}`, (cmd) => this.chords.getGroup(cmd, groupId));
  }

  forgetGroup(groupId: string): Promise<void> {
    return this.run(`forget group ${groupId}`, (cmd) => this.chords.forgetGroup(cmd, groupId));
  }

  setChordSize(groupId: string, size: number): Promise<void> {
    return this.run(`start chord ${groupId}`, (cmd) => this.chords.setChordSize(cmd, groupId, size));
  }

  chordPartReturn(groupId: string, part: ChordPart): Promise<ChordPart[] | null> {
    return this.run(`count a part of chord ${groupId}`, (cmd) => this.chords.chordPartReturn(cmd, groupId, part));
  }

  closeChord(groupId: string): Promise<boolean> {
    return this.run(`close chord ${groupId}`, (cmd) => this.chords.closeChord(cmd, groupId));
  }

  private keyOf(taskId: string): string {
    return `${this.prefix}${META_PREFIX}${taskId}`;
  }

  /** Sends every store of this turn in one pipeline of EVALSHA calls (loading the script once if Redis lost it). */
  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (!batch.length) return;
    const { cmd, gate } = this.commands();
    const ttl = String(Math.max(0, Math.floor(this.options.resultExpires)));
    const deadline = Date.now() + this.options.publishTimeout;
    const keys = batch.map((b) => b.key);
    const args = [...batch.map((b) => b.json), ttl];
    const send = () => cmd.evalsha(STORE_RESULT_SCRIPT.sha, keys.length, ...keys, ...args);
    try {
      try {
        await withReconnect(cmd, gate, deadline, () => this.unreachable('store task results'), send);
      } catch (err) {
        if (!/NOSCRIPT/.test((err as Error).message)) throw err;
        await cmd.script('LOAD', STORE_RESULT_SCRIPT.lua);
        await withReconnect(cmd, gate, deadline, () => this.unreachable('store task results'), send);
      }
      for (const s of batch) s.resolve();
    } catch (err) {
      const e =
        err instanceof ConnectionLostError
          ? new ResultBackendUnavailableError(this.unreachable('store task results'), { cause: err })
          : (err as Error);
      for (const s of batch) s.reject(e);
    }
  }

  /** After the subscriber reconnected: a state PUBLISHed during the outage was missed, so read it. */
  private async reread(channels: string[]): Promise<void> {
    try {
      const jsons = await this.run('re-read results after a reconnect', (cmd) => cmd.mget(...channels));
      channels.forEach((channel, i) => {
        const json = jsons[i];
        if (json !== null) this.subscriber.deliver(channel, json);
      });
    } catch (err) {
      this.logger.warn(`Could not re-read results after a reconnect: ${(err as Error).message}`);
    }
  }

  private run<T>(what: string, op: (cmd: Redis) => Promise<T>): Promise<T> {
    const { cmd, gate } = this.commands();
    return withReconnect(
      cmd,
      gate,
      Date.now() + this.options.publishTimeout,
      () => this.unreachable(what),
      () => op(cmd),
    );
  }

  private unreachable(what: string): string {
    return `Could not ${what}: the Redis result backend at ${this.describe()} was unreachable for ${this.options.publishTimeout} ms${this.health.describeLastError()}.`;
  }

  private commands(): { cmd: Redis; gate: ReadyGate } {
    if (!this.cmd) {
      this.cmd = createRedisConnection(this.endpoint, 'results', this.health, this.options.redis.reconnectMaxDelay);
      this.gate = new ReadyGate(this.cmd);
    }
    return { cmd: this.cmd, gate: this.gate! };
  }
}

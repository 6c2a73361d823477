import { RATE_SLOT_SCRIPT } from './lua/rate-slot.script';
import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { BrokerUnavailableError } from '../../errors';
import { TaskMessage, peekTaskId } from '../../protocol/task-message';
import { ResolvedTaskQueueOptions } from '../../options/resolved-options';
import { maskUrl } from '../../transports/url-mask';
import {
  Broker,
  ConsumeOptions,
  Consumer,
  DeadLetter,
  DeliveryHandler,
  ExchangeHandler,
  ExchangeSpec,
  ListenerQueueSpec,
  PublishOptions,
  checkPrefetch,
  deadLetterQueueOf,
} from '../broker.interface';
import { KombuEnvelope, messageOf, toEnvelope } from '../kombu/kombu-envelope';
import { RedisKeys } from './redis-keys';
import { RedisEndpoint, parseRedisUrl } from '../../transports/redis/redis-url';
import {
  ConnectionLostError,
  ReadyGate,
  RedisHealth,
  closeConnection,
  createRedisConnection,
  untilClosed,
  withReconnect,
} from '../../transports/redis/redis.connection';
import { AckBatcher } from './redis-ack.batcher';
import { UnackedRestorer } from './redis.restorer';
import { RedisConsumer } from './redis.consumer';
import { RedisExchangeRouter } from './redis-exchange.router';
import { RedisSubscriber } from '../../transports/redis/redis.subscriber';
import { DirectQueueReader } from './redis-direct.reader';
import { DelayedMover } from './redis-delayed.mover';
import { waitForReplicas } from '../../transports/redis/replica-wait';
import { redisServerId } from '../../transports/redis/result-write';

/** Messages per MULTI in publishMany. */
const PUBLISH_MANY_CHUNK = 10_000;

/**
 * The Redis broker, laid out exactly as kombu's Redis transport (celery-wire.md section 3), so
 * Python Celery workers and clients share queues with us: LPUSH to publish, priority bucket
 * lists, `_kombu.binding.*` sets, and kombu's `unacked` / `unacked_index` / `unacked_mutex`.
 *
 * Connections: one for commands (publish, acks, restores), one per consumer for its reserve
 * script and blocking wait, and, when used, one Pub/Sub connection for every fanout listener and
 * one blocking connection for every direct listener. Nothing is opened per task or per listener.
 */
export class RedisBroker implements Broker {
  readonly transport = 'redis';
  private readonly logger = new Logger('TaskQueueRedis');
  private readonly endpoint: RedisEndpoint;
  private readonly keys: RedisKeys;
  private readonly health: RedisHealth;
  private cmd: Redis | null = null;
  private gate: ReadyGate | null = null;
  private acks: AckBatcher | null = null;
  private restorer: UnackedRestorer | null = null;
  private mover: DelayedMover | null = null;
  private router: RedisExchangeRouter | null = null;
  private subscriber: RedisSubscriber | null = null;
  private reader: DirectQueueReader | null = null;
  private readonly consumers = new Set<RedisConsumer>();
  /** Queues whose binding member this broker has written already. */
  private readonly declared = new Set<string>();
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly options: ResolvedTaskQueueOptions,
  ) {
    this.endpoint = parseRedisUrl(url, options.redis.tls, options.redis);
    this.keys = new RedisKeys(options.redis.keyPrefix);
    this.health = new RedisHealth(this.logger, maskUrl(url));
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
        `Could not connect to Redis at ${this.describe()} within ${ms} ms${this.health.describeLastError()}. Is redis-server running and the URL right?`,
    );
  }

  /**
   * LPUSH onto the queue's priority bucket (and, once per queue, the binding member, in the same MULTI).
   * With a future `options.deliverAt` the envelope goes into the queue's delayed set instead
   * (`_taskq.delayed.<queue>`, score = due ms); the queue's consumers move it to the bucket when due.
   * Nothing waits in a worker's memory or in unacked, so no visibility-timeout redelivery (celery#2599).
   * Our consumers of the queue move due messages before each reserve, and this broker moves the
   * ones it scheduled itself while it is open (DelayedMover), for queues that Python workers alone
   * consume (they never read the delayed set). A short-lived publisher with no consumer of ours
   * on the queue should publish without deliverAt: the eta header still makes Python wait.
   */
  async publish(queue: string, message: TaskMessage, options: PublishOptions = {}): Promise<void> {
    if (this.closed)
      throw new BrokerUnavailableError(`Cannot publish to queue "${queue}": the Redis broker is closed.`);
    const { cmd } = this.commands();
    const raw = JSON.stringify(toEnvelope(message, '', queue));
    const dueMs = options.deliverAt && options.deliverAt.getTime() > Date.now() ? options.deliverAt.getTime() : null;
    const push = <
      T extends { lpush(k: string, v: string): unknown; zadd(k: string, score: number, member: string): unknown },
    >(
      tx: T,
    ): T => {
      if (dueMs === null) tx.lpush(this.keys.bucket(queue, message.properties.priority), raw);
      else tx.zadd(this.keys.delayed(queue), dueMs, raw);
      return tx;
    };
    await this.sendWithinTimeout(
      `task ${peekTaskId(message) ?? '(no id)'}`,
      queue,
      'The task was not sent.',
      async () => {
        if (this.declared.has(queue)) {
          await untilClosed(
            cmd,
            dueMs === null
              ? cmd.lpush(this.keys.bucket(queue, message.properties.priority), raw)
              : cmd.zadd(this.keys.delayed(queue), dueMs, raw),
          );
        } else {
          await untilClosed(cmd, push(this.declareOn(cmd.multi(), queue)).exec());
          this.declared.add(queue);
        }
      },
    );
    if (dueMs !== null) this.mover!.track(queue, dueMs);
  }

  /**
   * One MULTI per 10,000 messages (so Redis is never blocked long and memory stays bounded), each
   * an LPUSH of up to 1000 envelopes per priority bucket, in order.
   */
  async publishMany(queue: string, messages: readonly TaskMessage[]): Promise<void> {
    if (this.closed)
      throw new BrokerUnavailableError(`Cannot publish to queue "${queue}": the Redis broker is closed.`);
    for (let start = 0; start < messages.length; start += PUBLISH_MANY_CHUNK) {
      await this.publishChunk(queue, messages.slice(start, start + PUBLISH_MANY_CHUNK));
    }
  }

  private async publishChunk(queue: string, messages: readonly TaskMessage[]): Promise<void> {
    const { cmd } = this.commands();
    const buckets = new Map<string, string[]>();
    for (const m of messages) {
      const key = this.keys.bucket(queue, m.properties.priority);
      let raws = buckets.get(key);
      if (!raws) buckets.set(key, (raws = []));
      raws.push(JSON.stringify(toEnvelope(m, '', queue)));
    }
    await this.sendWithinTimeout(
      `${messages.length} tasks`,
      queue,
      'None of these was sent (an earlier chunk of the same call may have been).',
      async () => {
        const tx = this.declareOn(cmd.multi(), queue);
        for (const [key, raws] of buckets)
          for (let i = 0; i < raws.length; i += 1000) tx.lpush(key, ...raws.slice(i, i + 1000));
        await untilClosed(cmd, tx.exec());
        this.declared.add(queue);
      },
    );
  }

  /**
   * Runs a publish within `publishTimeout`: waits for the connection, and sends again when the
   * reply was lost (the write may or may not have landed; sending again keeps at-least-once).
   */
  private async sendWithinTimeout(
    what: string,
    queue: string,
    outcome: string,
    send: () => Promise<void>,
  ): Promise<void> {
    const { gate } = this.commands();
    const ms = this.options.publishTimeout;
    const deadline = Date.now() + ms;
    const unreachable = () =>
      `Could not publish ${what} to queue "${queue}": Redis at ${this.describe()} was unreachable for ${ms} ms (publishTimeout)${this.health.describeLastError()}. ${outcome}`;
    for (;;) {
      await gate.wait(deadline, unreachable);
      try {
        await send();
        return await untilClosed(
          this.commands().cmd,
          waitForReplicas(this.commands().cmd, this.options.redis.waitReplicas, ms, () => this.describe()),
        );
      } catch (err) {
        if (err instanceof ConnectionLostError && Date.now() < deadline) continue;
        if (err instanceof ConnectionLostError) throw new BrokerUnavailableError(unreachable(), { cause: err });
        throw err;
      }
    }
  }

  async consume(options: ConsumeOptions, handler: DeliveryHandler): Promise<Consumer> {
    if (this.closed) throw new BrokerUnavailableError('Cannot consume: the Redis broker is closed.');
    if (!options.queues.length) throw new Error('consume() needs at least one queue.');
    checkPrefetch(options.prefetch);
    await this.connect();
    const { cmd, gate, acks, restorer } = this.commands();
    await withReconnect(
      cmd,
      gate,
      Infinity,
      () => '',
      () => {
        const tx = cmd.multi();
        for (const q of options.queues) this.declareOn(tx, q);
        return tx.exec();
      },
    );
    for (const q of options.queues) this.declared.add(q);
    const conn = createRedisConnection(this.endpoint, 'consume', this.health, this.options.redis.reconnectMaxDelay);
    const consumer = new RedisConsumer(
      {
        conn,
        cmd,
        cmdGate: gate,
        keys: this.keys,
        acks,
        server: redisServerId(this.endpoint),
        restorer,
        logger: this.logger,
        blockTimeout: this.options.redis.blockTimeout,
        restoreInterval: this.options.redis.restoreInterval,
        closeTimeout: this.options.publishTimeout,
        declare: async (queue) => {
          await withReconnect(
            cmd,
            gate,
            Infinity,
            () => '',
            () => this.declareOn(cmd.multi(), queue).exec(),
          );
          this.declared.add(queue);
        },
      },
      options,
      handler,
    );
    this.consumers.add(consumer);
    await consumer.start();
    return consumer;
  }

  /** Deletes the queue's four bucket lists and its delayed set (what is held for later goes too). */
  async purge(queue: string): Promise<number> {
    const { cmd, gate } = this.commands();
    const buckets = this.keys.buckets(queue);
    const delayed = this.keys.delayed(queue);
    const res = await withReconnect(
      cmd,
      gate,
      Date.now() + this.options.publishTimeout,
      () => `Could not purge queue "${queue}": Redis at ${this.describe()} is unreachable.`,
      () => {
        const tx = cmd.multi();
        for (const b of buckets) tx.llen(b);
        tx.zcard(delayed);
        tx.del(...buckets, delayed);
        return tx.exec();
      },
    );
    return (res ?? []).slice(0, buckets.length + 1).reduce((n, [, v]) => n + Number(v), 0);
  }

  /** Messages held in the queue's delayed set (countdown, eta, retries, deferred), due or not yet moved. */
  async delayedLength(queue: string): Promise<number> {
    const { cmd, gate } = this.commands();
    return withReconnect(
      cmd,
      gate,
      Date.now() + this.options.publishTimeout,
      () => `Could not read the delayed messages of queue "${queue}": Redis at ${this.describe()} is unreachable.`,
      () => cmd.zcard(this.keys.delayed(queue)),
    );
  }

  /** A start slot of a limit shared by every worker on this Redis (globalRateLimit), on Redis's clock. */
  async reserveRateSlot(key: string, intervalMs: number, maxHoldMs: number): Promise<number> {
    const { cmd, gate } = this.commands();
    const hold = Number.isFinite(maxHoldMs) ? maxHoldMs : Number.MAX_SAFE_INTEGER;
    return withReconnect(
      cmd,
      gate,
      Date.now() + this.options.publishTimeout,
      () => `Could not take a rate-limit slot: Redis at ${this.describe()} is unreachable.`,
      () => RATE_SLOT_SCRIPT.run<number>(cmd, [this.keys.rateSlot(key)], [String(Math.ceil(intervalMs)), String(hold)]),
    );
  }

  /** Moves the queue's due delayed messages to its lists now (consumers do this before every reserve). Resolves to how many. */
  async moveDue(queue: string): Promise<number> {
    this.commands();
    return (await this.mover!.moveDue(queue, Date.now() + this.options.publishTimeout)).moved;
  }

  /** Ready messages in the queue's four bucket lists (not the delayed ones, not the delivered ones). */
  async queueLength(queue: string): Promise<number> {
    const { cmd, gate } = this.commands();
    const res = await withReconnect(
      cmd,
      gate,
      Date.now() + this.options.publishTimeout,
      () => `Could not read the length of queue "${queue}": Redis at ${this.describe()} is unreachable.`,
      () => {
        const p = cmd.pipeline();
        for (const b of this.keys.buckets(queue)) p.llen(b);
        return p.exec();
      },
    );
    return (res ?? []).reduce((n, [, v]) => n + Number(v), 0);
  }

  async readDeadLetters(queue: string, limit = 100): Promise<DeadLetter[]> {
    const { cmd, gate } = this.commands();
    const items = await withReconnect(
      cmd,
      gate,
      Date.now() + this.options.publishTimeout,
      () => `Could not read the dead letters of queue "${queue}": Redis at ${this.describe()} is unreachable.`,
      () => cmd.lrange(this.keys.list(deadLetterQueueOf(queue)), 0, Math.max(0, limit - 1)),
    );
    return items.map((item) => toDeadLetter(item, queue));
  }

  /** Fanout/topic: PUBLISH on `/<db>.<exchange>[/<key>]`; direct: LPUSH to the bound queues (celery-wire.md 3.4, 3.7). */
  async publishToExchange(exchange: ExchangeSpec, routingKey: string, message: TaskMessage): Promise<void> {
    if (this.closed)
      throw new BrokerUnavailableError(`Cannot publish to exchange "${exchange.name}": the Redis broker is closed.`);
    await this.exchanges().publish(exchange, routingKey, message);
  }

  /** Fanout/topic: PSUBSCRIBE on the shared subscriber; direct: BRPOP on the shared reader. Both bind the queue in `_kombu.binding.<exchange>`. */
  async listen(
    exchange: ExchangeSpec,
    queue: ListenerQueueSpec,
    handler: ExchangeHandler,
  ): Promise<() => Promise<void>> {
    if (this.closed)
      throw new BrokerUnavailableError(`Cannot listen to exchange "${exchange.name}": the Redis broker is closed.`);
    return this.exchanges().listen(exchange, queue, handler);
  }

  close(): Promise<void> {
    return (this.closing ??= this.doClose());
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    this.mover?.close();
    const deadline = Date.now() + this.options.publishTimeout;
    const consumers = [...this.consumers];
    await Promise.all([...consumers.map((c) => c.stop()), this.router?.close()]);
    await Promise.all([this.subscriber?.close(), this.reader?.close()]);
    if (this.cmd) {
      await this.acks!.drain(deadline).catch((err) =>
        this.logger.warn(
          `Closing: ${(err as Error).message} They stay in unacked and are restored after the visibility timeout.`,
        ),
      );
      for (const c of consumers) {
        const n = await c.returnUnsettled(deadline).catch((err) => {
          this.logger.warn(
            `Closing: could not return unsettled deliveries to their queues (${(err as Error).message}); they are restored after the visibility timeout.`,
          );
          return 0;
        });
        if (n) this.logger.log(`Closing: returned ${n} unsettled deliveries to their queues.`);
      }
      this.gate!.failAll(new BrokerUnavailableError('The Redis broker is closed.'));
      await closeConnection(this.cmd);
    }
    this.consumers.clear();
  }

  /** The command connection and what hangs off it, created on first use. */
  private commands(): { cmd: Redis; gate: ReadyGate; acks: AckBatcher; restorer: UnackedRestorer } {
    if (!this.cmd) {
      if (this.closed) throw new BrokerUnavailableError('The Redis broker is closed.');
      this.cmd = createRedisConnection(this.endpoint, 'commands', this.health, this.options.redis.reconnectMaxDelay);
      this.gate = new ReadyGate(this.cmd);
      this.acks = new AckBatcher(this.cmd, this.gate, this.keys);
      this.restorer = new UnackedRestorer(
        this.cmd,
        this.gate,
        this.keys,
        this.options.redis.visibilityTimeout,
        this.logger,
        this.options.redis.unackedMutexExpire,
      );
      this.mover = new DelayedMover(this.cmd, this.gate, this.keys, this.logger);
    }
    return { cmd: this.cmd, gate: this.gate!, acks: this.acks!, restorer: this.restorer! };
  }

  private exchanges(): RedisExchangeRouter {
    if (this.router) return this.router;
    const { cmd, gate } = this.commands();
    const o = this.options;
    return (this.router = new RedisExchangeRouter({
      cmd,
      gate,
      keys: this.keys,
      db: this.endpoint.db,
      timeoutMs: o.publishTimeout,
      describe: () => this.describe(),
      logger: this.logger,
      subscriber: () =>
        (this.subscriber ??= new RedisSubscriber(this.endpoint, this.health, {
          mode: 'psubscribe',
          reconnectMaxDelay: o.redis.reconnectMaxDelay,
          onListenerError: (err) => this.logger.error(`An exchange listener threw: ${err.message}`),
        })),
      reader: () =>
        (this.reader ??= new DirectQueueReader(
          this.endpoint,
          this.health,
          o.redis.reconnectMaxDelay,
          this.keys,
          cmd,
          gate,
          o.redis.blockTimeout,
          this.logger,
        )),
    }));
  }

  /** Declares a queue as Celery does: `_kombu.binding.<queue>` ∋ `<queue>SEP SEP<queue>`. */
  private declareOn<T extends { sadd(key: string, member: string): unknown }>(tx: T, queue: string): T {
    tx.sadd(this.keys.binding(queue), RedisKeys.bindingMember(queue, queue));
    return tx;
  }
}

function toDeadLetter(item: string, queue: string): DeadLetter {
  let rec: { queue?: string; reason?: string; at?: string; envelope?: KombuEnvelope | null; raw?: string };
  try {
    rec = JSON.parse(item);
  } catch {
    rec = { raw: item, reason: 'unreadable dead-letter record' };
  }
  const placeholder = (raw: string): TaskMessage => ({
    headers: {},
    properties: {},
    contentType: '',
    contentEncoding: '',
    body: Buffer.from(raw, 'utf8'),
  });
  let message: TaskMessage;
  try {
    message = rec.envelope ? messageOf(rec.envelope) : placeholder(rec.raw ?? '');
  } catch {
    message = placeholder(JSON.stringify(rec.envelope));
  }
  return { queue: rec.queue ?? queue, reason: rec.reason ?? '', at: rec.at ?? '', message };
}

import { TaskMessage } from '../protocol/task-message';
import type { ExchangeSpec, ListenerQueueSpec } from '../protocol/exchange-spec';
import type { RedisResultWrite } from '../transports/redis/result-write';

export type { ExchangeSpec, ListenerQueueSpec };

/**
 * The broker seam. The client and the worker see only this; how a transport lays messages out
 * (kombu's Redis lists, AMQP queues, an in-process array) stays inside its adapter.
 *
 * Every method may be called before `connect()`: adapters connect lazily, once, on first use.
 */
export interface Broker {
  /** Transport name for logs: `memory`, `redis`, `amqp`. */
  readonly transport: string;

  /** The URL with any password masked, for logs and the worker banner. */
  describe(): string;

  /** Connects (idempotent). Rejects with BrokerUnavailableError past the connect bound. */
  connect(): Promise<void>;

  /**
   * Publishes one task message to a queue (Celery routes to the default exchange `""` with
   * routing key = queue). Resolves once the broker holds it (AMQP: publisher confirm).
   * During an outage it waits at most `publishTimeout` ms, then rejects with BrokerUnavailableError.
   */
  publish(queue: string, message: TaskMessage, options?: PublishOptions): Promise<void>;

  /**
   * Optional: puts many messages, due now, on one queue in as few round trips as the transport
   * allows (Redis: one MULTI with a multi-value LPUSH per priority bucket), in order. Same bound
   * and at-least-once guarantee as `publish`. Without it, callers publish one by one.
   */
  publishMany?(queue: string, messages: readonly TaskMessage[]): Promise<void>;

  /**
   * Starts consuming. The handler gets each delivery once; the broker hands out at most
   * `prefetch` deliveries that are not yet settled (acked, rejected or dead-lettered).
   */
  consume(options: ConsumeOptions, handler: DeliveryHandler): Promise<Consumer>;

  /** Deletes every waiting message of the queue. Resolves to how many were removed. */
  purge(queue: string): Promise<number>;

  /** Messages waiting in the queue (not counting delivered, unsettled ones). */
  queueLength(queue: string): Promise<number>;

  /**
   * A start slot of a rate limit shared by every worker on this broker (`globalRateLimit`): resolves
   * to the milliseconds to wait (0: go now). The slot is taken only when the wait is at most
   * `maxHoldMs`, so a caller that would wait longer can hand the message back and ask again later.
   */
  reserveRateSlot?(key: string, intervalMs: number, maxHoldMs: number): Promise<number>;

  /** Optional: consumers attached to the queue, as the broker counts them (AMQP: a passive declare's consumerCount). */
  consumerCount?(queue: string): Promise<number>;

  /** Messages of the queue held in the broker until a later time (countdown, eta, retries). */
  delayedLength?(queue: string): Promise<number> | number;

  /** What was dead-lettered from this queue, newest first. */
  readDeadLetters(queue: string, limit?: number): Promise<DeadLetter[]>;

  /**
   * Publishes to a named exchange: Celery's remote control (`celery.pidbox`), its replies
   * (`reply.celery.pidbox`) and events (`celeryev`). Redis: fanout and topic exchanges are Pub/Sub
   * channels `/<db>.<exchange>[/<routing key>]`, direct ones push to the lists bound in
   * `_kombu.binding.<exchange>`; AMQP: basic.publish to the declared exchange.
   */
  publishToExchange?(exchange: ExchangeSpec, routingKey: string, message: TaskMessage): Promise<void>;

  /**
   * Receives what is published to an exchange, through a queue of its own bound with `queue.bindingKey`
   * (`#`/`*` patterns on topic exchanges). Resolves once listening; returns the stop function, which
   * removes the queue's binding.
   */
  listen?(exchange: ExchangeSpec, queue: ListenerQueueSpec, handler: ExchangeHandler): Promise<() => Promise<void>>;

  /**
   * A warning when a task may run longer than the broker lets a delivery stay unacked (RabbitMQ's
   * `consumer_timeout`, Celery issue #6760), or null.
   */
  checkConsumerTimeout?(seconds: number, what?: string): string | null;

  /**
   * Closes connections after flushing pending acks. Deliveries still unsettled return to their
   * queue (AMQP: the broker redelivers them; Redis: restored from `unacked`). Idempotent.
   */
  close(): Promise<void>;
}

export interface PublishOptions {
  /**
   * Hold the message in the broker, not in any worker, until this time (countdown, eta, retries).
   * Redis: a per-queue sorted set moved to the list when due; AMQP: a delay queue; memory: the bus.
   */
  deliverAt?: Date;
}

/** Gets each message published to a listened exchange, with its routing key. Never settles anything. */
export type ExchangeHandler = (message: TaskMessage, routingKey: string) => void;

export interface ConsumeOptions {
  /** Queues to consume, in priority order as Celery lists them. */
  queues: readonly string[];
  /** Maximum unsettled deliveries held by this consumer (Celery: concurrency × prefetchMultiplier). */
  prefetch: number;
}

export type DeliveryHandler = (delivery: Delivery) => void;

/**
 * A running consumer. Its queues and prefetch may change while it runs (Celery's `add_consumer`,
 * `cancel_consumer`, `pool_grow`/`pool_shrink`, autoscale); deliveries already handed out stay valid.
 */
export interface Consumer {
  /** Stops taking new deliveries. Deliveries already handed out stay valid until settled. */
  stop(): Promise<void>;
  /** The queues consumed now, in the order served. */
  readonly queues: readonly string[];
  /** Starts consuming one more queue (declared first, as at start). No-op when already consumed. */
  addQueue(queue: string): Promise<void>;
  /** Stops taking deliveries from a queue; what waits there stays. No-op when not consumed. */
  cancelQueue(queue: string): Promise<void>;
  /** Changes the bound of unsettled deliveries (a whole number >= 1). */
  setPrefetch(prefetch: number): Promise<void>;
}

/** Checks a prefetch bound given to `consume()` or `setPrefetch()`. */
export function checkPrefetch(prefetch: number): void {
  if (!Number.isInteger(prefetch) || prefetch < 1)
    throw new RangeError(`prefetch must be a whole number >= 1, got ${prefetch}.`);
}

/** One message handed to a consumer. Settle it exactly once. */
export interface Delivery {
  readonly message: TaskMessage;
  /** The queue it was taken from. */
  readonly queue: string;
  /** The exchange and routing key it was published with (Celery's `delivery_info`). */
  readonly exchange: string;
  readonly routingKey: string;
  /** True when this message was delivered before: restored after a crash, or requeued. */
  readonly redelivered: boolean;
  /**
   * Set when the transport could not read the message at all (not a kombu envelope, bad base64).
   * `message` is then a placeholder; the worker dead-letters the delivery with this reason.
   */
  readonly transportError?: Error;
  /** Done with it: the broker forgets the message. */
  ack(): Promise<void>;
  /** Give it back (`requeue`), or drop it. */
  reject(requeue: boolean): Promise<void>;
  /**
   * Puts it back into the broker's delayed store until `at`, and settles this delivery, in one
   * atomic step where the transport allows. Used for eta messages sent by clients that do not
   * delay in the broker (Python's Celery), and for rate-limited starts.
   */
  deferUntil?(at: Date): Promise<void>;
  /** Moves it, untouched, to the queue's dead-letter place with the reason, so a person can inspect it. */
  deadLetter(reason: string): Promise<void>;
  /**
   * Redis: stores a result and acks in one script (same server and db as the result backend);
   * null when it cannot. Called by the result backend only (ResultBackend.storeWithAck).
   */
  ackWithResult?(write: RedisResultWrite): Promise<void> | null;
}

/** A message moved aside because it could not be processed. */
export interface DeadLetter {
  queue: string;
  reason: string;
  /** When it was dead-lettered (ISO-8601). */
  at: string;
  message: TaskMessage;
}

/** Where a queue's dead letters go: a queue of its own, so Celery tools and `taskq` can read it. */
export function deadLetterQueueOf(queue: string): string {
  return `${queue}.dead-letter`;
}

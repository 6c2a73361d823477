import { Logger } from '@nestjs/common';
import type { Channel, ConsumeMessage } from 'amqplib';
import { BrokerUnavailableError, ConfigurationError } from '../../errors';
import { TaskMessage } from '../../protocol/task-message';
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
} from '../broker.interface';
import { AmqpChannelKeeper } from '../../transports/amqp/amqp-channel.keeper';
import { checkConsumerTimeout } from './amqp-consumer-timeout';
import { deadLetterOutgoing, readDeadLetterQueue } from './amqp-dead-letters';
import { toPublishOptions } from './amqp-headers';
import { declareDeadLetterQueue, declareTaskQueue, replyQueueOptions, validateAmqpOptions } from './amqp-topology';
import { AmqpConnection } from '../../transports/amqp/amqp.connection';
import { AmqpConsumer } from './amqp.consumer';
import { AmqpPublisher } from '../../transports/amqp/amqp.publisher';
import { closeChannelQuietly } from '../../transports/amqp/amqp-channel.close';
import {
  DELAY_ENTRY_EXCHANGE,
  bindQueueToDelayedDelivery,
  declareDelayTopology,
  delayRoutingKey,
  delaySecondsUntil,
} from './amqp-delay-topology';
import { declareExchange, listenerQueueFlags } from './amqp-exchange-topology';
import { AmqpExchangeListener } from './amqp-exchange.listener';

/**
 * The RabbitMQ transport, laid out as Celery 5.2 lays it out (celery-wire.md 4): per queue a durable
 * direct exchange and a durable queue bound by its name; tasks are published to the default
 * exchange with routing key = queue, persistent, with publisher confirms; consumers ack manually.
 *
 * Connections and channels come back by themselves after a loss: topology is declared again,
 * consumers resume, and publishes wait (at most `publishTimeout`) for the connection.
 *
 * Countdowns, etas, retries and deferred deliveries wait in the broker, in Celery 5.5's plugin-free
 * delay topology (amqp-delay-topology.ts explains the choice), never unacked in a worker.
 */
export class AmqpBroker implements Broker {
  readonly transport = 'amqp';
  private readonly logger = new Logger('AmqpBroker');
  private readonly connection: AmqpConnection;
  private readonly publisher: AmqpPublisher;
  /** A plain channel for declarations and queue admin; a 406 closes only this one. */
  private readonly admin: AmqpChannelKeeper;
  /** Queues declared on the current connection (declared again after a reconnect). */
  private readonly declared = new Map<string, Promise<void>>();
  private readonly consumers = new Set<AmqpConsumer>();
  private readonly listeners = new Set<AmqpExchangeListener>();
  private closing: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly options: ResolvedTaskQueueOptions,
  ) {
    validateAmqpOptions(options.amqp);
    const amqp = options.amqp;
    this.connection = new AmqpConnection(url, {
      heartbeat: amqp.heartbeat,
      reconnectDelay: amqp.reconnectDelay,
      reconnectMaxDelay: amqp.reconnectMaxDelay,
      name: 'AmqpBroker',
    });
    this.connection.on('connect', () => this.declared.clear());
    this.publisher = new AmqpPublisher(this.connection, this.logger);
    this.admin = new AmqpChannelKeeper(this.connection, false, this.logger, 'admin');
  }

  describe(): string {
    return maskUrl(this.url);
  }

  async connect(): Promise<void> {
    await this.connection.waitConnected(this.options.publishTimeout);
  }

  /**
   * With a `deliverAt` at least 1 s ahead the message goes into the delay topology (whole seconds,
   * rounded down: the worker holds the rest); otherwise straight to the queue.
   */
  async publish(queue: string, message: TaskMessage, options: PublishOptions = {}): Promise<void> {
    this.assertOpen();
    if (options.deliverAt && delaySecondsUntil(options.deliverAt) > 0)
      return this.publishDelayed(message, queue, options.deliverAt);
    const timeout = this.options.publishTimeout;
    await this.publisher.publish(
      { exchange: '', routingKey: queue, content: message.body, options: toPublishOptions(message) },
      timeout,
      async () => {
        await this.ensureDeclared(queue, timeout, declareTaskQueue);
        await this.declareReplyQueue(message, timeout);
      },
    );
  }

  /**
   * With rpc:// results, declares the message's reply queue before the task is sent, as Celery's
   * client does (rpc backend `on_task_call`): a worker's reply to a queue that does not exist yet is
   * dropped by RabbitMQ, and the caller's consumer may still be starting. Best effort: a queue
   * declared elsewhere with other arguments (406) is left as it is.
   */
  private async declareReplyQueue(message: TaskMessage, timeoutMs: number): Promise<void> {
    const replyTo = message.properties?.reply_to;
    if (!replyTo || !/^rpc:/i.test(this.options.resultBackend)) return;
    const options = replyQueueOptions(this.options.resultExpires);
    await this.ensureDeclared(
      replyTo,
      timeoutMs,
      (ch, q) => ch.assertQueue(q, options).then(() => undefined),
      'reply:',
    ).catch((err: Error) => this.logger.debug(`Reply queue "${replyTo}" not declared: ${err.message}`));
  }

  /** Publishes to a named exchange (declared first, as Celery declares it). Unrouted messages are simply dropped. */
  async publishToExchange(exchange: ExchangeSpec, routingKey: string, message: TaskMessage): Promise<void> {
    this.assertOpen();
    const timeout = this.options.publishTimeout;
    const options = toPublishOptions(message);
    // Control requests, replies and events are transient unless the message says otherwise.
    options.deliveryMode = message.properties?.delivery_mode ?? 1;
    await this.publisher.publish({ exchange: exchange.name, routingKey, content: message.body, options }, timeout, () =>
      this.ensureDeclared(exchange.name, timeout, (ch) => declareExchange(ch, exchange), 'exchange:'),
    );
  }

  async listen(
    exchange: ExchangeSpec,
    queue: ListenerQueueSpec,
    handler: ExchangeHandler,
  ): Promise<() => Promise<void>> {
    this.assertOpen();
    const listener = new AmqpExchangeListener(exchange, queue, handler, {
      connection: this.connection,
      logger: this.logger,
      timeoutMs: this.options.publishTimeout,
      retryDelay: this.options.amqp.reconnectDelay,
      retryMaxDelay: this.options.amqp.reconnectMaxDelay,
      flags: listenerQueueFlags(queue.role, this.options.amqp),
      onGone: (l) => this.listeners.delete(l),
    });
    this.listeners.add(listener);
    await listener.start();
    return () => listener.stop();
  }

  async consume(options: ConsumeOptions, handler: DeliveryHandler): Promise<Consumer> {
    this.assertOpen();
    const amqp = this.options.amqp;
    const consumer = new AmqpConsumer(options, handler, {
      connection: this.connection,
      logger: this.logger,
      declare: (ch, queue) => declareOrExplain(queue, () => declareTaskQueue(ch, queue, amqp)),
      copyToDeadLetters: (msg, queue, reason) => this.copyToDeadLetters(msg, queue, reason),
      copyToDelayed: (message, queue, at) => this.publishDelayed(message, queue, at),
      globalQos: amqp.queueType !== 'quorum',
      timeoutMs: this.options.publishTimeout,
      retryDelay: amqp.reconnectDelay,
      retryMaxDelay: amqp.reconnectMaxDelay,
      onGone: (c) => this.consumers.delete(c),
    });
    this.consumers.add(consumer);
    try {
      await consumer.start();
    } catch (err) {
      this.consumers.delete(consumer);
      throw err;
    }
    return consumer;
  }

  async purge(queue: string): Promise<number> {
    return this.onAdminChannel(async (ch) => (await ch.purgeQueue(queue)).messageCount, 0);
  }

  async queueLength(queue: string): Promise<number> {
    return this.onAdminChannel(async (ch) => (await ch.checkQueue(queue)).messageCount, 0);
  }

  /** Consumers of the queue as RabbitMQ counts them (passive declare); 0 when the queue does not exist. */
  async consumerCount(queue: string): Promise<number> {
    return this.onAdminChannel(async (ch) => (await ch.checkQueue(queue)).consumerCount, 0);
  }

  async readDeadLetters(queue: string, limit = 100): Promise<DeadLetter[]> {
    this.assertOpen();
    // A channel of its own: the messages it holds unacked go back however it ends.
    const ch = await this.connection.createChannel(false, this.options.publishTimeout);
    try {
      return await readDeadLetterQueue(ch, queue, limit);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    } finally {
      await closeChannelQuietly(ch);
    }
  }

  /**
   * A warning when a task may hold its delivery unacked longer than RabbitMQ's consumer_timeout
   * (`amqp.consumerTimeout`, default 30 min), or null. The worker calls it with each task's time limit.
   */
  checkConsumerTimeout(seconds: number | null | undefined, what?: string): string | null {
    return checkConsumerTimeout(seconds, this.options.amqp.consumerTimeout, what);
  }

  /** Stops consuming, waits for pending confirms, closes channels and the connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.listeners].map((l) => l.stop()));
    const consumers = [...this.consumers];
    await Promise.all(consumers.map((c) => c.stop()));
    await this.publisher.flush(this.options.publishTimeout);
    await Promise.all(consumers.map((c) => c.close()));
    await this.publisher.close();
    await this.admin.close();
    await this.connection.close();
  }

  private async copyToDeadLetters(msg: ConsumeMessage, queue: string, reason: string): Promise<void> {
    const timeout = this.options.publishTimeout;
    await this.publisher.publish(deadLetterOutgoing(msg, queue, reason), timeout, () =>
      this.ensureDeclared(
        queue,
        timeout,
        (ch, q) => declareDeadLetterQueue(ch, q).then(() => undefined),
        'dead-letter:',
      ),
    );
  }

  /**
   * Into the delay topology, persistent, confirmed. The per-message `expiration` (Celery's `expires`)
   * is left off: it would cut the wait short in the delay queues; the worker checks `expires` itself.
   */
  private async publishDelayed(message: TaskMessage, queue: string, at: Date): Promise<void> {
    const seconds = delaySecondsUntil(at);
    const timeout = this.options.publishTimeout;
    if (seconds < 1) return this.publish(queue, message);
    const options = toPublishOptions(message);
    delete options.expiration;
    options.deliveryMode = 2;
    await this.publisher.publish(
      { exchange: DELAY_ENTRY_EXCHANGE, routingKey: delayRoutingKey(seconds, queue), content: message.body, options },
      timeout,
      async () => {
        await this.ensureDeclared('celery_delayed_*', timeout, (ch) => declareDelayTopology(ch), 'delay-topology:');
        await this.ensureDeclared(queue, timeout, declareTaskQueue);
        await this.ensureDeclared(queue, timeout, (ch, q) => bindQueueToDelayedDelivery(ch, q), 'delay-binding:');
        await this.declareReplyQueue(message, timeout);
      },
    );
  }

  /** Declares once per connection; concurrent publishers to one queue share the declaration. */
  private ensureDeclared(
    queue: string,
    timeoutMs: number,
    declare: (ch: Channel, queue: string, amqp: ResolvedTaskQueueOptions['amqp']) => Promise<void>,
    kind = 'task:',
  ): Promise<void> {
    const key = kind + queue;
    let done = this.declared.get(key);
    if (!done) {
      done = this.admin
        .get(timeoutMs)
        // Bounded: a declaration sent on a channel of a connection that died is never answered, and a
        // cached pending one would hold every later publish to this queue.
        .then((ch) =>
          withinMs(
            declareOrExplain(queue, () => declare(ch, queue, this.options.amqp)),
            timeoutMs,
            `Declaring "${queue}"`,
          ),
        )
        .catch((err) => {
          this.declared.delete(key);
          throw err;
        });
      this.declared.set(key, done);
    }
    return done;
  }

  private async onAdminChannel<T>(op: (ch: Channel) => Promise<T>, ifMissing: T): Promise<T> {
    this.assertOpen();
    // A channel of its own: RabbitMQ closes the channel of a 404 (a queue not declared yet), and on the
    // shared admin channel every concurrent check and declaration failed with "Channel ended" (two health
    // checks reading one missing queue at once did).
    const ch = await this.connection.createChannel(false, this.options.publishTimeout);
    try {
      return await op(ch);
    } catch (err) {
      if (isNotFound(err)) return ifMissing;
      throw err;
    } finally {
      await closeChannelQuietly(ch);
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new BrokerUnavailableError(`The AMQP broker ${this.describe()} is closed.`);
  }
}

/** Turns RabbitMQ's 406 on a declaration into an error that says what to change. */
function withinMs<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) =>
      (timer = setTimeout(() => reject(new BrokerUnavailableError(`${what} got no answer within ${ms} ms.`)), ms)),
  );
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function declareOrExplain(queue: string, declare: () => Promise<void>): Promise<void> {
  try {
    await declare();
  } catch (err) {
    if ((err as { code?: number }).code === 406) {
      throw new ConfigurationError(
        `Queue "${queue}" exists on RabbitMQ with other flags or arguments than this app declares ` +
          `(${(err as Error).message}). Make amqp.maxPriority and amqp.queueType match the existing queue ` +
          "(Celery's task_queue_max_priority / queue type), or delete the queue.",
        { cause: err },
      );
    }
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

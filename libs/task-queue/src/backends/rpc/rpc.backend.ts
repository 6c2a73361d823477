import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { ConfigurationError } from '../../errors';
import { JSON_CONTENT_TYPE } from '../../protocol/task-message';
import { ResultMeta } from '../../protocol/result-meta';
import { ResolvedTaskQueueOptions } from '../../options/resolved-options';
import { maskUrl } from '../../transports/url-mask';
import { Delivery } from '../../brokers/broker.interface';
import { AmqpConnection } from '../../transports/amqp/amqp.connection';
import { AmqpConsumer } from '../../brokers/amqp/amqp.consumer';
import { AmqpPublisher } from '../../transports/amqp/amqp.publisher';
import { replyQueueOptions } from '../../brokers/amqp/amqp-topology';
import { ReplyTarget, ResultBackend } from '../result-backend.interface';
import { RpcResultCache } from './rpc-result.cache';
import { decodeRpcReply, encodeRpcReply } from './rpc-reply.codec';

/** Replies taken from the reply queue before their acks (they are tiny and handled at once). */
const REPLY_PREFETCH = 1000;

/**
 * Celery's rpc:// result backend (celery-wire.md 5.6). Results are not stored anywhere: the worker
 * sends each state as a message to the caller's reply queue (`reply_to` of the task message), and
 * the caller keeps the latest state per task in memory. So `get()` only knows tasks whose replies
 * reached this process, and a reply sent while this process has no consumer on its queue (after an
 * auto-delete, during a reconnect) is lost, exactly as with Celery.
 *
 * The reply queue is named `replyTo`, declared as Celery's client declares it: not durable,
 * auto-delete, `x-expires` = resultExpires. It travels over the AMQP broker of `brokerUrl`.
 */
export class RpcResultBackend implements ResultBackend {
  readonly name = 'rpc';
  readonly replyTo = randomUUID();
  private readonly logger = new Logger('RpcResultBackend');
  private readonly connection: AmqpConnection;
  private readonly publisher: AmqpPublisher;
  private readonly cache: RpcResultCache;
  private consumer: AmqpConsumer | null = null;
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly options: ResolvedTaskQueueOptions,
  ) {
    if (!/^rpc:/i.test(url)) throw new ConfigurationError(`${maskUrl(url)} is not an rpc:// URL.`);
    if (!/^amqps?:\/\//i.test(options.brokerUrl)) {
      throw new ConfigurationError(
        `The rpc:// result backend sends results over RabbitMQ, but brokerUrl is ${maskUrl(options.brokerUrl)}. ` +
          'Use an amqp:// broker, or another result backend (redis://).',
      );
    }
    const amqp = options.amqp;
    this.connection = new AmqpConnection(options.brokerUrl, {
      heartbeat: amqp.heartbeat,
      reconnectDelay: amqp.reconnectDelay,
      reconnectMaxDelay: amqp.reconnectMaxDelay,
      name: 'RpcResultBackend',
    });
    this.publisher = new AmqpPublisher(this.connection, this.logger);
    this.cache = new RpcResultCache(amqp.rpcResultCacheSize);
  }

  describe(): string {
    return `rpc:// over ${maskUrl(this.options.brokerUrl)}`;
  }

  /** Declares the reply queue and starts consuming it (once). */
  connect(): Promise<void> {
    if (this.closing) return Promise.reject(new ConfigurationError('The rpc:// result backend is closed.'));
    this.starting ??= this.start().catch((err) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  /**
   * Sends a state to the caller's reply queue: exchange "", routing key = target.replyTo,
   * correlation_id = the task id, transient (delivery_mode 1), as a Celery worker does.
   * Without a reply_to there is nobody to tell, so nothing is sent.
   */
  async store(meta: ResultMeta, target?: ReplyTarget): Promise<void> {
    const replyTo = target?.replyTo;
    if (!replyTo) {
      this.logger.debug(`Task ${meta.task_id} has no reply_to: its ${meta.status} is not sent.`);
      return;
    }
    await this.publisher.publish(
      {
        exchange: '',
        routingKey: replyTo,
        content: encodeRpcReply(meta),
        options: {
          correlationId: target?.correlationId || meta.task_id,
          deliveryMode: 1,
          priority: 0,
          contentType: JSON_CONTENT_TYPE,
          contentEncoding: 'utf-8',
          headers: {},
        },
      },
      this.options.publishTimeout,
    );
  }

  async get(taskId: string): Promise<ResultMeta | null> {
    await this.connect();
    return this.cache.get(taskId);
  }

  async subscribe(taskId: string, listener: (meta: ResultMeta) => void): Promise<() => void> {
    await this.connect();
    return this.cache.listen(taskId, listener);
  }

  async forget(taskId: string): Promise<void> {
    this.cache.forget(taskId);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async start(): Promise<void> {
    const queueOptions = replyQueueOptions(this.options.resultExpires);
    const amqp = this.options.amqp;
    const consumer = new AmqpConsumer({ queues: [this.replyTo], prefetch: REPLY_PREFETCH }, (d) => this.onReply(d), {
      connection: this.connection,
      logger: this.logger,
      declare: async (ch, queue) => {
        await ch.assertQueue(queue, queueOptions);
      },
      copyToDeadLetters: async () => {
        throw new Error('rpc replies are not dead-lettered');
      },
      copyToDelayed: async () => {
        throw new Error('rpc replies are not delayed');
      },
      globalQos: false,
      timeoutMs: this.options.publishTimeout,
      retryDelay: amqp.reconnectDelay,
      retryMaxDelay: amqp.reconnectMaxDelay,
      onGone: () => undefined,
    });
    await consumer.start();
    this.consumer = consumer;
  }

  private onReply(delivery: Delivery): void {
    try {
      const correlationId = delivery.message.properties.correlation_id;
      this.cache.put(decodeRpcReply(delivery.message.body, correlationId));
    } catch (err) {
      this.logger.warn(`Dropped an unreadable message on reply queue ${this.replyTo}: ${(err as Error).message}`);
    }
    void delivery.ack();
  }

  private async shutdown(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.consumer?.close();
    await this.publisher.flush(this.options.publishTimeout);
    await this.publisher.close();
    await this.connection.close();
  }
}

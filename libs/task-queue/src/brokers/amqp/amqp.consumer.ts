import { Logger } from '@nestjs/common';
import type { Channel, ConsumeMessage } from 'amqplib';
import { TaskQueueError } from '../../errors';
import { TaskMessage } from '../../protocol/task-message';
import { ConsumeOptions, Consumer, DeliveryHandler, checkPrefetch } from '../broker.interface';
import { createAmqpDelivery } from './amqp-delivery';
import { AmqpAckCoalescer } from './amqp-ack.coalescer';
import { AmqpConnection } from '../../transports/amqp/amqp.connection';
import { closeChannelQuietly, settleWithin } from '../../transports/amqp/amqp-channel.close';

/** What a consumer needs from its broker. */
export interface AmqpConsumerDeps {
  connection: AmqpConnection;
  logger: Logger;
  /** Declares a task queue on the given channel (Celery's topology). */
  declare(channel: Channel, queue: string): Promise<void>;
  copyToDeadLetters(msg: ConsumeMessage, queue: string, reason: string): Promise<void>;
  /** Publishes a message into the delay topology (Delivery.deferUntil). */
  copyToDelayed(message: TaskMessage, queue: string, at: Date): Promise<void>;
  /** Whether channel-wide (global) qos may be used: not with quorum queues. */
  globalQos: boolean;
  /** Bound of each attempt to get a channel. */
  timeoutMs: number;
  /** First and largest pause between attempts to resume after a loss. */
  retryDelay: number;
  retryMaxDelay: number;
  /** Called once the consumer is stopped and its channel closed. */
  onGone(consumer: AmqpConsumer): void;
}

/**
 * One `consume()` call: its own channel with `basic.qos` = prefetch, manual acks, one basic.consume
 * per queue. When the channel or the connection is lost it opens a new channel, declares again and
 * resumes; RabbitMQ has by then requeued what was unacked on the old one.
 *
 * Remote control changes it while it runs: a queue added gets its basic.consume on the channel, a
 * queue cancelled its basic.cancel. A new prefetch is a new basic.qos, which RabbitMQ applies to
 * consumers started after it only, so each queue is consumed anew and its old consumer cancelled
 * (deliveries belong to the channel, so the old consumer's stay valid).
 */
export class AmqpConsumer implements Consumer {
  private attached: Attached | null = null;
  /** Consumer tag of each queue consumed on the current channel. */
  private tags = new Map<string, string>();
  private stopped = false;
  private resuming: NodeJS.Timeout | null = null;
  private attempt = 0;
  private readonly served: string[];
  private prefetch: number;
  /** Changes to the queues and the qos run one at a time, in order. */
  private changes: Promise<unknown> = Promise.resolve();

  constructor(
    options: ConsumeOptions,
    private readonly handler: DeliveryHandler,
    private readonly deps: AmqpConsumerDeps,
  ) {
    checkPrefetch(options.prefetch);
    this.served = [...options.queues];
    this.prefetch = options.prefetch;
  }

  get queues(): readonly string[] {
    return this.served;
  }

  addQueue(queue: string): Promise<void> {
    return this.change(async () => {
      if (this.served.includes(queue)) return;
      this.served.push(queue);
      const attached = this.attached;
      // Not attached: the next attach consumes it.
      if (!attached || this.stopped) return;
      try {
        await this.applyQos(attached.channel);
        await this.deps.declare(attached.channel, queue);
        await this.consumeQueue(attached, queue);
      } catch (err) {
        this.served.splice(this.served.indexOf(queue), 1);
        throw err;
      }
    });
  }

  cancelQueue(queue: string): Promise<void> {
    return this.change(async () => {
      const i = this.served.indexOf(queue);
      if (i < 0) return;
      this.served.splice(i, 1);
      const tag = this.tags.get(queue);
      this.tags.delete(queue);
      if (tag && this.attached?.live) await settleWithin(this.attached.channel.cancel(tag));
    });
  }

  setPrefetch(prefetch: number): Promise<void> {
    checkPrefetch(prefetch);
    return this.change(async () => {
      if (prefetch === this.prefetch) return;
      this.prefetch = prefetch;
      const attached = this.attached;
      if (!attached || this.stopped) return;
      await this.applyQos(attached.channel);
      for (const queue of [...this.tags.keys()]) {
        if (this.stopped || this.attached !== attached) return;
        const old = this.tags.get(queue)!;
        await this.consumeQueue(attached, queue);
        await settleWithin(attached.channel.cancel(old));
      }
    });
  }

  private change(fn: () => Promise<void>): Promise<void> {
    const next = this.changes.then(fn);
    this.changes = next.catch(() => undefined);
    return next;
  }

  private async applyQos(ch: Channel): Promise<void> {
    await ch.prefetch(this.prefetch, false);
    if (this.deps.globalQos && this.served.length > 1) await ch.prefetch(this.prefetch, true);
  }

  /** Deliveries handed out on the current channel and not settled yet. */
  get inFlight(): number {
    return this.attached?.unsettled ?? 0;
  }

  /** First attachment: errors (unreachable broker, 406 on declare) reach the caller. */
  async start(): Promise<void> {
    try {
      await this.attach();
    } catch (err) {
      this.stopped = true;
      if (this.resuming) clearTimeout(this.resuming);
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.resuming) clearTimeout(this.resuming);
    const attached = this.attached;
    if (!attached) {
      this.deps.onGone(this);
      return;
    }
    // basic.cancel: no new deliveries; the ones handed out stay valid until settled.
    for (const tag of this.tags.values()) await settleWithin(attached.channel.cancel(tag));
    this.tags.clear();
    if (attached.unsettled === 0) await this.closeChannel();
  }

  /** Stops and closes the channel now: unsettled deliveries go back to their queues. */
  async close(): Promise<void> {
    await this.stop();
    await this.closeChannel();
  }

  private async attach(): Promise<void> {
    const { connection, logger, timeoutMs } = this.deps;
    const ch = await connection.createChannel(false, timeoutMs);
    if (this.stopped) {
      await closeChannelQuietly(ch);
      return;
    }
    const attached: Attached = {
      channel: ch,
      live: true,
      unsettled: 0,
      dropped: 0,
      acks: new AmqpAckCoalescer(ch, (n, err) =>
        logger.warn(
          `${n} ack frame(s) could not be written (${err.message}); RabbitMQ will deliver those messages again.`,
        ),
      ),
    };
    this.attached = attached;
    ch.on('error', (err: Error) => logger.warn(`Consumer channel of ${this.served.join(', ')} failed: ${err.message}`));
    ch.on('close', () => {
      attached.live = false;
      if (this.attached !== attached) return;
      this.attached = null;
      this.tags.clear();
      if (!this.stopped) this.scheduleResume();
      else this.deps.onGone(this);
    });
    try {
      await this.applyQos(ch);
      for (const queue of this.served) await this.deps.declare(ch, queue);
      for (const queue of [...this.served]) await this.consumeQueue(attached, queue);
      this.attempt = 0;
    } catch (err) {
      await closeChannelQuietly(ch);
      throw err;
    }
  }

  /** One basic.consume on the attached channel; its tag replaces the queue's previous one. */
  private async consumeQueue(attached: Attached, queue: string): Promise<void> {
    const { logger } = this.deps;
    const ch = attached.channel;
    const ctx = {
      ack: (msg: ConsumeMessage) => attached.acks.ack(msg.fields.deliveryTag),
      reject: (msg: ConsumeMessage, requeue: boolean) => {
        ch.reject(msg, requeue);
        attached.acks.settledOtherwise(msg.fields.deliveryTag);
      },
      isLive: () => attached.live,
      onSettled: () => this.onSettled(attached),
      dropped: (what: string, id: string, q: string) => {
        const line = `Cannot ${what} ${id} from "${q}": its channel is closed. RabbitMQ will deliver it again.`;
        if (attached.dropped++ === 0) logger.warn(`${line} (Further ones of this channel are logged at debug level.)`);
        else logger.debug(line);
      },
      copyToDeadLetters: this.deps.copyToDeadLetters,
      copyToDelayed: this.deps.copyToDelayed,
      logger,
    };
    const { consumerTag } = await ch.consume(
      queue,
      (msg) => {
        if (!msg) {
          logger.warn(`RabbitMQ cancelled the consumer of "${queue}" (queue deleted?); resuming on a new channel.`);
          void closeChannelQuietly(ch);
          return;
        }
        attached.unsettled++;
        attached.acks.delivered(msg.fields.deliveryTag);
        this.dispatch(createAmqpDelivery(msg, queue, ctx));
      },
      { noAck: false },
    );
    this.tags.set(queue, consumerTag);
  }

  private dispatch(delivery: Parameters<DeliveryHandler>[0]): void {
    try {
      this.handler(delivery);
    } catch (err) {
      // A throwing handler must not take the channel down; the delivery stays unsettled for it.
      this.deps.logger.error(`The delivery handler threw: ${(err as Error).message}`);
    }
  }

  private scheduleResume(): void {
    if (this.resuming || this.stopped) return;
    const delay = Math.min(this.deps.retryDelay * 2 ** this.attempt++, this.deps.retryMaxDelay);
    this.resuming = setTimeout(() => {
      this.resuming = null;
      if (this.stopped) return;
      this.attach().catch((err: Error) => {
        const hint = err instanceof TaskQueueError ? '' : ' Retrying.';
        this.deps.logger.warn(`Cannot resume consuming ${this.served.join(', ')}: ${err.message}.${hint}`);
        this.scheduleResume();
      });
    }, delay);
  }

  private onSettled(attached: Attached): void {
    attached.unsettled--;
    if (this.stopped && this.attached === attached && attached.unsettled === 0) void this.closeChannel();
  }

  private async closeChannel(): Promise<void> {
    const attached = this.attached;
    if (!attached) return;
    // Acks of this turn go out before the channel closes, or their messages would come back.
    if (attached.live) attached.acks.flush();
    // The 'close' listener reports the consumer gone.
    await closeChannelQuietly(attached.channel);
  }
}

/** One channel generation of a consumer and the deliveries it handed out. */
interface Attached {
  channel: Channel;
  live: boolean;
  unsettled: number;
  /** Settlements dropped after the channel closed. */
  dropped: number;
  acks: AmqpAckCoalescer;
}

import { Logger } from '@nestjs/common';
import type { Channel, ConsumeMessage } from 'amqplib';
import { TaskQueueError } from '../../errors';
import { TaskMessage } from '../../protocol/task-message';
import { ConsumeOptions, Consumer, DeliveryHandler } from '../broker.interface';
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
 */
export class AmqpConsumer implements Consumer {
  private attached: Attached | null = null;
  private tags: string[] = [];
  private stopped = false;
  private resuming: NodeJS.Timeout | null = null;
  private attempt = 0;

  constructor(
    private readonly options: ConsumeOptions,
    private readonly handler: DeliveryHandler,
    private readonly deps: AmqpConsumerDeps,
  ) {
    if (!Number.isInteger(options.prefetch) || options.prefetch < 1) {
      throw new RangeError(`prefetch must be a whole number >= 1, got ${options.prefetch}.`);
    }
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
    for (const tag of this.tags) await settleWithin(attached.channel.cancel(tag));
    this.tags = [];
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
    ch.on('error', (err: Error) =>
      logger.warn(`Consumer channel of ${this.options.queues.join(', ')} failed: ${err.message}`),
    );
    ch.on('close', () => {
      attached.live = false;
      if (this.attached !== attached) return;
      this.attached = null;
      this.tags = [];
      if (!this.stopped) this.scheduleResume();
      else this.deps.onGone(this);
    });
    try {
      await ch.prefetch(this.options.prefetch, false);
      if (this.deps.globalQos && this.options.queues.length > 1) await ch.prefetch(this.options.prefetch, true);
      for (const queue of this.options.queues) await this.deps.declare(ch, queue);
      for (const queue of this.options.queues) {
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
            if (attached.dropped++ === 0)
              logger.warn(`${line} (Further ones of this channel are logged at debug level.)`);
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
        this.tags.push(consumerTag);
      }
      this.attempt = 0;
    } catch (err) {
      await closeChannelQuietly(ch);
      throw err;
    }
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
        this.deps.logger.warn(`Cannot resume consuming ${this.options.queues.join(', ')}: ${err.message}.${hint}`);
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

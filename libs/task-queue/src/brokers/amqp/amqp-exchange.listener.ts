import { Logger } from '@nestjs/common';
import type { Channel } from 'amqplib';
import { ExchangeHandler, ExchangeSpec, ListenerQueueSpec } from '../broker.interface';
import { closeChannelQuietly, settleWithin } from '../../transports/amqp/amqp-channel.close';
import { ConfigurationError } from '../../errors';
import { ListenerQueueFlags, declareExchange, declareListenerQueue } from './amqp-exchange-topology';
import { toTaskMessage } from './amqp-headers';
import { AmqpConnection } from '../../transports/amqp/amqp.connection';

/** What a listener needs from its broker. */
export interface AmqpListenerDeps {
  connection: AmqpConnection;
  logger: Logger;
  /** Bound of each attempt to get a channel. */
  timeoutMs: number;
  /** First and largest pause between attempts to resume after a loss. */
  retryDelay: number;
  retryMaxDelay: number;
  /** Exclusive / durable flags of the queue (from the amqp options). */
  flags: ListenerQueueFlags;
  /** Called once the listener is stopped. */
  onGone(listener: AmqpExchangeListener): void;
}

/**
 * One `listen()` call: its own channel, the exchange and the listener queue declared as Celery
 * declares them, one basic.consume with no acks (kombu's pidbox and event receivers consume with
 * no_ack too: these messages are worth nothing once missed). After a channel or connection loss it
 * declares again and resumes; the queue (auto-delete) is gone by then, so what was published in
 * between is not seen, as with Celery.
 */
export class AmqpExchangeListener {
  private channel: Channel | null = null;
  private stopped = false;
  private resuming: NodeJS.Timeout | null = null;
  private attempt = 0;

  constructor(
    private readonly exchange: ExchangeSpec,
    private readonly queue: ListenerQueueSpec,
    private readonly handler: ExchangeHandler,
    private readonly deps: AmqpListenerDeps,
  ) {}

  /**
   * First attachment: errors (unreachable broker, 406 on declare) reach the caller. An exclusive queue
   * held by another connection (405 RESOURCE_LOCKED) is tried again for a few seconds, since the
   * holder may be the previous process of this worker whose connection is still closing; then the
   * caller gets a ConfigurationError that says to give each worker its own node name.
   */
  async start(): Promise<void> {
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.attach();
          return;
        } catch (err) {
          if (!isResourceLocked(err) || this.stopped) throw err;
          if (attempt >= LOCKED_ATTEMPTS) throw this.lockedError(err as Error);
          const pause = Math.min(LOCKED_FIRST_PAUSE_MS * 2 ** (attempt - 1), LOCKED_MAX_PAUSE_MS);
          this.deps.logger.warn(
            `Queue "${this.queue.name}" is held exclusively by another connection (attempt ${attempt} of ` +
              `${LOCKED_ATTEMPTS}); trying again in ${pause} ms.`,
          );
          await new Promise((r) => setTimeout(r, pause));
        }
      }
    } catch (err) {
      this.stopped = true;
      this.deps.onGone(this);
      throw err;
    }
  }

  /** Cancels the consumer, deletes the queue and closes the channel. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.resuming) clearTimeout(this.resuming);
    const ch = this.channel;
    this.channel = null;
    if (ch) {
      // Deleting the queue also ends the consumer; no cancel round trip needed first.
      await settleWithin(ch.deleteQueue(this.queue.name));
      await closeChannelQuietly(ch);
    }
    this.deps.onGone(this);
  }

  private lockedError(cause: Error): ConfigurationError {
    const node = /^(.+)\.celery\.pidbox$/.exec(this.queue.name)?.[1];
    return new ConfigurationError(
      node
        ? `Another worker named "${node}" is already listening on this broker: its remote-control queue ` +
            `"${this.queue.name}" is exclusive (amqp.controlQueueExclusive). Give each worker a unique node name ` +
            "(worker.hostname, Celery's -n), or stop the other worker first."
        : `Queue "${this.queue.name}" is held exclusively by another connection (${cause.message}). ` +
            'Give each listener a queue name of its own.',
      { cause },
    );
  }

  private async attach(): Promise<void> {
    const { connection, logger, timeoutMs } = this.deps;
    const ch = await connection.createChannel(false, timeoutMs);
    if (this.stopped) {
      await closeChannelQuietly(ch);
      return;
    }
    ch.on('error', (err: Error) => logger.warn(`Listener channel of "${this.queue.name}" failed: ${err.message}`));
    ch.on('close', () => {
      if (this.channel !== ch) return;
      this.channel = null;
      if (!this.stopped) this.scheduleResume();
    });
    try {
      await declareExchange(ch, this.exchange);
      await declareListenerQueue(ch, this.exchange, this.queue, this.deps.flags);
      await ch.consume(
        this.queue.name,
        (msg) => {
          if (!msg) {
            // Queue deleted under us (x-expires, an operator): declare again on a new channel.
            void closeChannelQuietly(ch);
            return;
          }
          let message;
          try {
            message = toTaskMessage(msg);
          } catch (err) {
            logger.warn(`Ignoring an unreadable message on "${this.queue.name}": ${(err as Error).message}`);
            return;
          }
          try {
            this.handler(message, msg.fields.routingKey);
          } catch (err) {
            logger.error(`The handler of "${this.queue.name}" threw: ${(err as Error).message}`);
          }
        },
        { noAck: true },
      );
      this.channel = ch;
      this.attempt = 0;
    } catch (err) {
      await closeChannelQuietly(ch);
      throw err;
    }
  }

  private scheduleResume(): void {
    if (this.resuming || this.stopped) return;
    const delay = Math.min(this.deps.retryDelay * 2 ** this.attempt++, this.deps.retryMaxDelay);
    this.resuming = setTimeout(() => {
      this.resuming = null;
      if (this.stopped) return;
      this.attach().catch((err: Error) => {
        this.deps.logger.warn(`Cannot listen on "${this.queue.name}" again: ${err.message}. Retrying.`);
        this.scheduleResume();
      });
    }, delay);
  }
}

/** Attempts of a first attachment refused with RESOURCE_LOCKED: about 6 s in all. */
const LOCKED_ATTEMPTS = 6;
const LOCKED_FIRST_PAUSE_MS = 200;
const LOCKED_MAX_PAUSE_MS = 2000;

/** RabbitMQ's 405 RESOURCE_LOCKED: an exclusive queue of another connection. */
function isResourceLocked(err: unknown): boolean {
  return (err as { code?: number }).code === 405;
}

import type { Logger } from '@nestjs/common';
import type { ConsumeMessage } from 'amqplib';
import { InvalidTaskMessageError } from '../../errors';
import { TaskMessage, peekTaskId } from '../../protocol/task-message';
import { Delivery } from '../broker.interface';
import { toTaskMessage, unreadableReason } from './amqp-headers';
import { DELAYED_DELIVERY_EXCHANGE, isDeadLetterHeader, stripDelayPrefix } from './amqp-delay-topology';

/** What a delivery needs from the consumer that received it. */
export interface AmqpDeliveryContext {
  /** Acks on the channel it arrived on (coalesced per event-loop turn). */
  ack(msg: ConsumeMessage): void;
  /** Rejects on that channel at once. */
  reject(msg: ConsumeMessage, requeue: boolean): void;
  /** False once that channel is closed: RabbitMQ then requeues the message by itself. */
  isLive(): boolean;
  /** Called once, when the delivery is settled (or found unsettleable). */
  onSettled(): void;
  /** Reports a settlement dropped because the channel is gone (the consumer logs it once per channel). */
  dropped(what: string, id: string, queue: string): void;
  /** Copies the message to the queue's dead-letter queue and waits for the confirm. */
  copyToDeadLetters(msg: ConsumeMessage, queue: string, reason: string): Promise<void>;
  /** Publishes the message into the delay topology, due at `at`, and waits for the confirm. */
  copyToDelayed(message: TaskMessage, queue: string, at: Date): Promise<void>;
  logger: Logger;
}

/**
 * Wraps one AMQP delivery. Settling never throws into the caller: on a channel that is gone the
 * ack/reject is logged and dropped, because RabbitMQ has already put the message back and will
 * deliver it again (at-least-once).
 */
export function createAmqpDelivery(msg: ConsumeMessage, queue: string, ctx: AmqpDeliveryContext): Delivery {
  let settled = false;
  const { message, transportError } = readMessage(msg, queue);
  const id = peekTaskId(message) ?? `delivery ${msg.fields.deliveryTag}`;
  // A message back from the delay topology reports where it was first published to, as on the
  // memory and Redis brokers: Celery 5.2 always publishes tasks to "" with routing key = queue.
  const fromDelay = msg.fields.exchange === DELAYED_DELIVERY_EXCHANGE;
  if (fromDelay) {
    for (const name of Object.keys(message.headers)) if (isDeadLetterHeader(name)) delete message.headers[name];
  }

  /** Marks it settled; false (with a log line) when it cannot or need not be settled. */
  const begin = (what: string): boolean => {
    if (settled) return false;
    settled = true;
    if (!ctx.isLive()) {
      ctx.dropped(what, id, queue);
      ctx.onSettled();
      return false;
    }
    return true;
  };
  const run = (what: string, op: () => void): void => {
    try {
      op();
    } catch (err) {
      ctx.logger.warn(
        `Cannot ${what} ${id} from "${queue}": ${(err as Error).message}. RabbitMQ will deliver it again.`,
      );
    } finally {
      ctx.onSettled();
    }
  };

  return {
    message,
    queue,
    exchange: fromDelay ? '' : msg.fields.exchange,
    routingKey: fromDelay ? stripDelayPrefix(msg.fields.routingKey) : msg.fields.routingKey,
    redelivered: msg.fields.redelivered,
    transportError,
    async ack() {
      if (begin('ack')) run('ack', () => ctx.ack(msg));
    },
    async reject(requeue: boolean) {
      if (begin('reject')) run('reject', () => ctx.reject(msg, requeue));
    },
    /**
     * Publishes a copy into the delay topology and waits for RabbitMQ's confirm, then acks this
     * delivery. Not atomic: a crash or a lost channel between the confirm and the ack leaves the
     * message twice (once delayed, once redelivered here), never zero times.
     */
    async deferUntil(at: Date) {
      if (transportError) throw transportError;
      if (!begin('defer')) return;
      try {
        await ctx.copyToDelayed(message, queue, at);
      } catch (err) {
        // Not delayed: still this consumer's to settle (the worker then holds it in memory).
        settled = false;
        throw err;
      }
      if (!ctx.isLive()) {
        ctx.logger.warn(
          `Deferred ${id} from "${queue}", but its channel closed before the ack: RabbitMQ will deliver it again (a duplicate).`,
        );
        ctx.onSettled();
        return;
      }
      run('ack', () => ctx.ack(msg));
    },
    async deadLetter(reason: string) {
      if (!begin('dead-letter')) return;
      try {
        await ctx.copyToDeadLetters(msg, queue, reason);
      } catch (err) {
        // Not copied: give it back rather than lose it.
        ctx.logger.error(`Cannot dead-letter ${id} from "${queue}" (${(err as Error).message}); requeued instead.`);
        run('requeue', () => ctx.reject(msg, true));
        return;
      }
      if (!ctx.isLive()) {
        ctx.logger.warn(
          `Dead-lettered ${id} from "${queue}", but its channel closed before the ack: RabbitMQ will deliver it again.`,
        );
        ctx.onSettled();
        return;
      }
      run('ack', () => ctx.ack(msg));
    },
  };
}

function readMessage(msg: ConsumeMessage, queue: string): { message: TaskMessage; transportError?: Error } {
  const reason = unreadableReason(msg);
  if (!reason) {
    try {
      return { message: toTaskMessage(msg) };
    } catch (err) {
      return placeholder(msg, queue, (err as Error).message);
    }
  }
  return placeholder(msg, queue, reason);
}

function placeholder(
  msg: ConsumeMessage,
  queue: string,
  reason: string,
): { message: TaskMessage; transportError: Error } {
  return {
    message: { headers: {}, properties: {}, contentType: '', contentEncoding: '', body: msg.content },
    transportError: new InvalidTaskMessageError(`A message on "${queue}" cannot be read: ${reason}.`),
  };
}

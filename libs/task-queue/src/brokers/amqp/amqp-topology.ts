import type { Channel, Options } from 'amqplib';
import { ConfigurationError } from '../../errors';
import { AmqpTransportOptions } from '../../options/amqp-options';
import { deadLetterQueueOf } from '../broker.interface';

/**
 * The RabbitMQ entities Celery 5.2 declares, with the exact flags (celery-wire.md 4.1). Declaring an
 * existing entity with other flags or arguments is refused with 406 PRECONDITION_FAILED, so a Python
 * worker and ours can share a queue only if both declare it the same way.
 *
 * Integer arguments are typed `I` (signed 32-bit), as py-amqp writes them, so that our declaration is
 * the same on the wire as Celery's (amqplib alone would send 10 as a byte `b`).
 */

/** The arguments of a task queue: none, `x-max-priority` and/or `x-queue-type`. */
export function taskQueueArguments(amqp: AmqpTransportOptions): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (amqp.maxPriority !== undefined) args['x-max-priority'] = int(amqp.maxPriority);
  if (amqp.queueType === 'quorum') args['x-queue-type'] = 'quorum';
  return args;
}

/** Options that cannot work together, refused before anything is declared. */
export function validateAmqpOptions(amqp: AmqpTransportOptions): void {
  const p = amqp.maxPriority;
  if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > 255)) {
    throw new ConfigurationError(`amqp.maxPriority must be a whole number from 1 to 255, got ${p}.`);
  }
  if (amqp.queueType !== undefined && amqp.queueType !== 'classic' && amqp.queueType !== 'quorum') {
    throw new ConfigurationError(`amqp.queueType must be "classic" or "quorum", got "${String(amqp.queueType)}".`);
  }
  for (const kind of ['control', 'event'] as const) {
    if (amqp[`${kind}QueueExclusive`] && amqp[`${kind}QueueDurable`]) {
      throw new ConfigurationError(
        `amqp.${kind}QueueExclusive and amqp.${kind}QueueDurable cannot both be true: an exclusive queue is deleted ` +
          'with its connection, so it cannot be durable. Choose one (as Celery refuses both).',
      );
    }
  }
  if (amqp.queueType === 'quorum' && p !== undefined) {
    throw new ConfigurationError(
      'amqp.maxPriority cannot be used with amqp.queueType "quorum": quorum queues have no x-max-priority before RabbitMQ 4.0 ' +
        '(RabbitMQ refuses the declaration). Use classic queues for priorities, or drop maxPriority.',
    );
  }
}

/**
 * Celery's task topology for one queue: direct durable exchange named after the queue, durable
 * queue, binding key = queue name. Messages are then published to the default exchange `""`.
 */
export async function declareTaskQueue(channel: Channel, queue: string, amqp: AmqpTransportOptions): Promise<void> {
  await channel.assertExchange(queue, 'direct', { durable: true, autoDelete: false, internal: false });
  await channel.assertQueue(queue, taskQueueOptions(amqp));
  await channel.bindQueue(queue, queue, queue);
}

export function taskQueueOptions(amqp: AmqpTransportOptions): Options.AssertQueue {
  return { durable: true, autoDelete: false, exclusive: false, arguments: taskQueueArguments(amqp) };
}

/** Where a queue's dead letters go: a plain durable classic queue, reached through the default exchange. */
export async function declareDeadLetterQueue(channel: Channel, queue: string): Promise<string> {
  const name = deadLetterQueueOf(queue);
  await channel.assertQueue(name, { durable: true, autoDelete: false, exclusive: false });
  return name;
}

/**
 * The rpc:// reply queue as Celery's client declares it: not durable, auto-deleted once its last
 * consumer leaves, and expiring after `resultExpires` seconds unused (0 = no x-expires).
 */
export function replyQueueOptions(resultExpiresSeconds: number): Options.AssertQueue {
  const args: Record<string, unknown> = {};
  if (resultExpiresSeconds > 0) args['x-expires'] = int(Math.round(resultExpiresSeconds * 1000));
  return { durable: false, autoDelete: true, exclusive: false, arguments: args };
}

function int(value: number): { '!': 'int'; value: number } {
  return { '!': 'int', value };
}

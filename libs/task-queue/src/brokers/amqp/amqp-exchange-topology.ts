import type { Channel, Options } from 'amqplib';
import { ResolvedTaskQueueOptions } from '../../options/resolved-options';
import { ExchangeSpec, ListenerQueueSpec } from '../broker.interface';

/**
 * The exchanges of remote control and events, and the queues listeners read them through, declared
 * as Celery 5.2 declares them (celery-wire.md 4.1): `celery.pidbox` fanout and `reply.celery.pidbox`
 * direct, both non-durable; `celeryev` topic, durable; none auto-deleted. Listener queues carry
 * `x-expires` / `x-message-ttl` typed `I` (signed 32-bit) as py-amqp writes them; whether they are
 * exclusive or durable follows Celery 5.7's `control_queue_*` / `event_queue_*` settings
 * (`amqp.controlQueueExclusive` …; exclusive and transient by default, which RabbitMQ 4.x accepts).
 * Every listener queue has a name of its own owner (hostname, oid, uuid), so the flags never have to
 * match a Python declaration of the same queue.
 */

export async function declareExchange(channel: Channel, exchange: ExchangeSpec): Promise<void> {
  await channel.assertExchange(exchange.name, exchange.type, {
    durable: exchange.durable,
    autoDelete: false,
    internal: false,
  });
}

/** Exclusive / durable flags of a listener queue. */
export interface ListenerQueueFlags {
  exclusive: boolean;
  durable: boolean;
}

/** The flags the options give a control or event queue (Celery's `control_queue_*` / `event_queue_*`). */
export function listenerQueueFlags(
  role: ListenerQueueSpec['role'] = 'event',
  amqp: Pick<
    ResolvedTaskQueueOptions['amqp'],
    'controlQueueExclusive' | 'controlQueueDurable' | 'eventQueueExclusive' | 'eventQueueDurable'
  >,
): ListenerQueueFlags {
  return role === 'control'
    ? { exclusive: amqp.controlQueueExclusive, durable: amqp.controlQueueDurable }
    : { exclusive: amqp.eventQueueExclusive, durable: amqp.eventQueueDurable };
}

export function listenerQueueOptions(queue: ListenerQueueSpec, flags: ListenerQueueFlags): Options.AssertQueue {
  const args: Record<string, unknown> = {};
  if (queue.expiresMs !== undefined) args['x-expires'] = int(queue.expiresMs);
  if (queue.messageTtlMs !== undefined) args['x-message-ttl'] = int(queue.messageTtlMs);
  // As kombu: a durable queue is never auto-deleted (auto_delete = not durable).
  const autoDelete = flags.durable ? false : queue.autoDelete;
  return { durable: flags.durable, autoDelete, exclusive: flags.exclusive, arguments: args };
}

/** Declares the queue and binds it; on a fanout exchange the binding key is ignored (kombu binds with ""). */
export async function declareListenerQueue(
  channel: Channel,
  exchange: ExchangeSpec,
  queue: ListenerQueueSpec,
  flags: ListenerQueueFlags,
): Promise<void> {
  await channel.assertQueue(queue.name, listenerQueueOptions(queue, flags));
  await channel.bindQueue(queue.name, exchange.name, exchange.type === 'fanout' ? '' : queue.bindingKey);
}

function int(value: number): { '!': 'int'; value: number } {
  return { '!': 'int', value: Math.round(value) };
}

import type { Channel, Options } from 'amqplib';
import { ExchangeSpec, ListenerQueueSpec } from '../broker.interface';

/**
 * The exchanges of remote control and events, and the queues listeners read them through, declared
 * as Celery 5.2 declares them (celery-wire.md 4.1): `celery.pidbox` fanout and `reply.celery.pidbox`
 * direct, both non-durable; `celeryev` topic, durable; none auto-deleted. Listener queues are
 * non-durable, auto-deleted, with `x-expires` / `x-message-ttl` typed `I` (signed 32-bit) as py-amqp
 * writes them. Other flags would make RabbitMQ refuse Python's declarations, or ours, with a 406.
 */

export async function declareExchange(channel: Channel, exchange: ExchangeSpec): Promise<void> {
  await channel.assertExchange(exchange.name, exchange.type, {
    durable: exchange.durable,
    autoDelete: false,
    internal: false,
  });
}

export function listenerQueueOptions(queue: ListenerQueueSpec): Options.AssertQueue {
  const args: Record<string, unknown> = {};
  if (queue.expiresMs !== undefined) args['x-expires'] = int(queue.expiresMs);
  if (queue.messageTtlMs !== undefined) args['x-message-ttl'] = int(queue.messageTtlMs);
  // Not exclusive, as Celery 5.2 declares them. Celery's main branch makes them exclusive for
  // RabbitMQ 4.3 (celery#10287, kombu#2531), but then two workers with one hostname (two processes on a
  // host with the default name, or a restart while the old connection lingers) fail at start with
  // RESOURCE_LOCKED; that needs a clear refusal or fallback first (issue #15).
  return { durable: false, autoDelete: queue.autoDelete, exclusive: false, arguments: args };
}

/** Declares the queue and binds it; on a fanout exchange the binding key is ignored (kombu binds with ""). */
export async function declareListenerQueue(
  channel: Channel,
  exchange: ExchangeSpec,
  queue: ListenerQueueSpec,
): Promise<void> {
  await channel.assertQueue(queue.name, listenerQueueOptions(queue));
  await channel.bindQueue(queue.name, exchange.name, exchange.type === 'fanout' ? '' : queue.bindingKey);
}

function int(value: number): { '!': 'int'; value: number } {
  return { '!': 'int', value: Math.round(value) };
}

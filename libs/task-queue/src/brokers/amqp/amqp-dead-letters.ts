import type { Channel, Message } from 'amqplib';
import { DeadLetter, deadLetterQueueOf } from '../broker.interface';
import { toPublishOptions, toTaskMessage } from './amqp-headers';
import { AmqpOutgoing } from '../../transports/amqp/amqp.publisher';

/** Headers added to a dead-lettered message; `readDeadLetters` takes them off again. */
export const DEAD_LETTER_REASON = 'x-dead-letter-reason';
export const DEAD_LETTER_QUEUE = 'x-dead-letter-queue';
export const DEAD_LETTER_AT = 'x-dead-letter-at';

/** Most messages looked at by one readDeadLetters call (it must see them all to return the newest). */
export const DEAD_LETTER_SCAN_LIMIT = 10_000;

/**
 * The copy of a delivered message for `<queue>.dead-letter`: same body, content type, headers and
 * properties, plus the reason, the original queue and the time. Persistent; no TTL, so it stays
 * until someone reads it.
 */
export function deadLetterOutgoing(msg: Message, queue: string, reason: string, at = new Date()): AmqpOutgoing {
  const original = toTaskMessage(msg);
  const options = toPublishOptions(original, {
    [DEAD_LETTER_REASON]: reason,
    [DEAD_LETTER_QUEUE]: queue,
    [DEAD_LETTER_AT]: at.toISOString(),
  });
  delete options.expiration;
  options.deliveryMode = 2;
  // A message that could not be read has no content type; keep whatever it had.
  options.contentType = msg.properties.contentType ?? undefined;
  options.contentEncoding = msg.properties.contentEncoding ?? undefined;
  return { exchange: '', routingKey: deadLetterQueueOf(queue), content: msg.content, options };
}

/**
 * Reads a dead-letter queue without consuming it: basic.get (unacked) of every message, then
 * basic.nack with requeue of all of them, so they stay in the queue in their order. Newest first.
 * The channel should be one of its own: closing it would also requeue them.
 */
export async function readDeadLetterQueue(channel: Channel, queue: string, limit: number): Promise<DeadLetter[]> {
  const name = deadLetterQueueOf(queue);
  const { messageCount } = await channel.checkQueue(name);
  const seen: DeadLetter[] = [];
  try {
    for (let i = 0; i < Math.min(messageCount, DEAD_LETTER_SCAN_LIMIT); i++) {
      const msg = await channel.get(name, { noAck: false });
      if (!msg) break;
      seen.push(toDeadLetter(msg, queue));
    }
  } finally {
    channel.nackAll(true);
  }
  return seen.reverse().slice(0, Math.max(0, limit));
}

function toDeadLetter(msg: Message, queue: string): DeadLetter {
  const message = toTaskMessage(msg);
  const h = { ...message.headers };
  const reason = typeof h[DEAD_LETTER_REASON] === 'string' ? (h[DEAD_LETTER_REASON] as string) : '';
  const from = typeof h[DEAD_LETTER_QUEUE] === 'string' ? (h[DEAD_LETTER_QUEUE] as string) : queue;
  const at = typeof h[DEAD_LETTER_AT] === 'string' ? (h[DEAD_LETTER_AT] as string) : '';
  delete h[DEAD_LETTER_REASON];
  delete h[DEAD_LETTER_QUEUE];
  delete h[DEAD_LETTER_AT];
  return { queue: from, reason, at, message: { ...message, headers: h } };
}

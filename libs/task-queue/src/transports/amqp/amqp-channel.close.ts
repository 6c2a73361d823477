import { once } from 'node:events';
import type { Channel } from 'amqplib';

/** How long a channel.close waits for RabbitMQ's close-ok before it is given up on. */
const CLOSE_BOUND_MS = 2000;

/**
 * Closes a channel without throwing and without hanging: amqplib's close() never settles when the
 * connection dies while it waits for close-ok, so the channel's own 'close' event or a bound ends
 * the wait too. Either way RabbitMQ requeues what the channel held unacked.
 */
export async function closeChannelQuietly(channel: Channel): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    channel.close().catch(() => undefined),
    once(channel, 'close').catch(() => undefined),
    new Promise((r) => (timer = setTimeout(r, CLOSE_BOUND_MS))),
  ]);
  clearTimeout(timer);
}

/** Waits for `promise` at most `ms` (default: the close bound); never throws. For goodbyes to a peer that may be gone. */
export async function settleWithin(promise: Promise<unknown>, ms = CLOSE_BOUND_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

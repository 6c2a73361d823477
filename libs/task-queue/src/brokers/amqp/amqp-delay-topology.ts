import type { Channel } from 'amqplib';

/**
 * Broker-held delays on RabbitMQ without any plugin: the layout of Celery 5.5's "native delayed
 * delivery" (celery-wire.md 11), declared with the same names, flags and arguments, so a Celery 5.5
 * app sharing the vhost declares the same entities without a 406 and its delayed messages reach our
 * queues as ours reach its queues.
 *
 * Why this layout and not one TTL queue per delay (the other plugin-free way):
 *   - a fixed set of entities (28 levels), however many different delays are used; per-delay
 *     queues grow without bound, need x-expires clean-up, and lose messages parked in a queue that
 *     expired;
 *   - every level queue has one queue-wide TTL, so its messages expire strictly in arrival order and
 *     a long delay never blocks a short one (the head-of-line problem of per-message TTLs);
 *   - quorum queues with `x-dead-letter-strategy: at-least-once` (RabbitMQ >= 3.10): a message moves
 *     to the next level only once that level confirmed it, and survives broker restarts; classic
 *     queues dead-letter at most once (a crash or a missing route drops the message).
 *
 * How it works: a delay of d whole seconds is written as 28 bits, most significant first, in front
 * of the target routing key: `0.0. … .1.0.1.<queue>`. The message is published to the topic exchange
 * `celery_delayed_27`. Level n (27 … 0) has a topic exchange and a quorum queue `celery_delayed_<n>`
 * with `x-message-ttl` = 2^n s: when bit n is 1 the message waits there 2^n s and is dead-lettered
 * (routing key unchanged) to exchange n-1; when it is 0 it passes on to exchange n-1 at once through
 * an exchange-to-exchange binding. After level 0 it reaches the topic exchange
 * `celery_delayed_delivery`, where each task queue is bound with `*` × 28 + `.<queue>`.
 *
 * Precision and ordering: the delay is rounded *down* to whole seconds, so a message comes back up to
 * 1 s early (its `eta` header still says when it is due; the worker holds the rest in memory,
 * which Celery's worker does as well). Messages with the same whole-second delay, published on one
 * channel, come back in the order they were published; messages with different delays come back in
 * order of their due second, not of their exact due time. Nothing is ordered relative to messages
 * published without a delay. The longest delay is 2^28 - 1 s (about 8.5 years); a longer one is
 * capped and the worker defers it again when it comes back.
 *
 * Unlike Celery 5.5 we bind the task *queue* itself to `celery_delayed_delivery` (Celery binds the
 * queue's exchange, and skips direct exchanges, which are what Celery 5.2 and we declare), and with an
 * exact 28-word prefix instead of `#.<queue>`: `#.b` would also match a message for a queue `a.b`.
 */

/** Bits of the delay in seconds (Celery 5.5's MAX_NUMBER_OF_BITS_TO_USE). */
export const DELAY_BITS = 28;
/** The longest delay the topology holds, in seconds. */
export const MAX_DELAY_SECONDS = 2 ** DELAY_BITS - 1;
/** Where every delayed message arrives when its time has come. */
export const DELAYED_DELIVERY_EXCHANGE = 'celery_delayed_delivery';
/** The first exchange of the cascade: delayed messages are published here. */
export const DELAY_ENTRY_EXCHANGE = delayLevelName(DELAY_BITS - 1);

/** Headers RabbitMQ adds when it dead-letters a message from one level to the next. */
const DEAD_LETTER_HEADERS = /^x-(death|first-death-.*|last-death-.*)$/;
const DELAY_PREFIX = new RegExp(`^(?:[01]\\.){${DELAY_BITS}}`);

/** `celery_delayed_<level>`: the exchange and the queue of one level. */
export function delayLevelName(level: number): string {
  return `celery_delayed_${level}`;
}

/** Whole seconds from now until `at`, rounded down and capped at MAX_DELAY_SECONDS (0 when due). */
export function delaySecondsUntil(at: Date, now = Date.now()): number {
  const seconds = Math.floor((at.getTime() - now) / 1000);
  return Math.min(Math.max(0, seconds), MAX_DELAY_SECONDS);
}

/** The routing key of a message delayed `seconds` (>= 1) on its way to `queue`. */
export function delayRoutingKey(seconds: number, queue: string): string {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_DELAY_SECONDS) {
    throw new RangeError(`A delay must be a whole number of seconds from 1 to ${MAX_DELAY_SECONDS}, got ${seconds}.`);
  }
  const bits = seconds.toString(2).padStart(DELAY_BITS, '0').split('').join('.');
  return `${bits}.${queue}`;
}

/** The routing key without the delay bits (a delivery's original routing key). */
export function stripDelayPrefix(routingKey: string): string {
  return routingKey.replace(DELAY_PREFIX, '');
}

/** True for RabbitMQ's dead-letter bookkeeping headers (`x-death`, `x-first-death-*`, `x-last-death-*`). */
export function isDeadLetterHeader(name: string): boolean {
  return DEAD_LETTER_HEADERS.test(name);
}

/** `*.` repeated: matches `count` words of the routing key. */
function anyWords(count: number): string {
  return '*.'.repeat(count);
}

/** Queue arguments of one level, as Celery 5.5 declares them with its default quorum queue type. */
export function delayQueueArguments(level: number): Record<string, unknown> {
  const ttlMs = 2 ** level * 1000;
  return {
    'x-queue-type': 'quorum',
    'x-overflow': 'reject-publish',
    // py-amqp writes ints that fit 32 bits as `I` and larger ones as 64-bit; RabbitMQ compares
    // integer arguments by value across integer types, so `l` matches Celery's `L`.
    'x-message-ttl': ttlMs <= 0x7fffffff ? { '!': 'int', value: ttlMs } : { '!': 'long', value: ttlMs },
    'x-dead-letter-exchange': level > 0 ? delayLevelName(level - 1) : DELAYED_DELIVERY_EXCHANGE,
    'x-dead-letter-strategy': 'at-least-once',
  };
}

/**
 * Declares the 28 levels and the delivery exchange (idempotent; RabbitMQ answers 406 if an entity
 * exists with other arguments, e.g. Celery 5.5 configured with classic delay queues).
 */
export async function declareDelayTopology(channel: Channel): Promise<void> {
  for (let level = DELAY_BITS - 1; level >= 0; level--) {
    const name = delayLevelName(level);
    const above = DELAY_BITS - 1 - level;
    await channel.assertExchange(name, 'topic', { durable: true, autoDelete: false, internal: false });
    await channel.assertQueue(name, {
      durable: true,
      autoDelete: false,
      exclusive: false,
      arguments: delayQueueArguments(level),
    });
    // Bit `level` is 1: wait here.
    await channel.bindQueue(name, name, `${anyWords(above)}1.#`);
  }
  await channel.assertExchange(DELAYED_DELIVERY_EXCHANGE, 'topic', {
    durable: true,
    autoDelete: false,
    internal: false,
  });
  for (let level = DELAY_BITS - 1; level >= 0; level--) {
    const above = DELAY_BITS - 1 - level;
    const next = level > 0 ? delayLevelName(level - 1) : DELAYED_DELIVERY_EXCHANGE;
    // Bit `level` is 0: pass on to the next level at once.
    await channel.bindExchange(next, delayLevelName(level), `${anyWords(above)}0.#`);
  }
}

/** Binds a task queue to the delivery exchange, so that messages delayed for it come back to it. */
export async function bindQueueToDelayedDelivery(channel: Channel, queue: string): Promise<void> {
  await channel.bindQueue(queue, DELAYED_DELIVERY_EXCHANGE, `${anyWords(DELAY_BITS)}${queue}`);
}

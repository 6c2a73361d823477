/**
 * kombu's Redis key layout (celery-wire.md 3.3 to 3.6), in one place. Every key gets the
 * `keyPrefix` (kombu's `global_keyprefix`) in front.
 */

/** kombu's separator between a queue name and its priority step, and inside binding members. */
export const KOMBU_SEP = '\x06\x16';

/**
 * kombu's `priority_steps`. On Redis a LOWER number is served FIRST (the opposite of RabbitMQ):
 * the consumer pops bucket 0 before 3, 6 and 9, so priority 0 is the most urgent.
 */
export const PRIORITY_STEPS = [0, 3, 6, 9] as const;

export class RedisKeys {
  /** Hash delivery_tag → `[envelope, exchange, routing_key]` of every delivered, unacked message. */
  readonly unacked: string;
  /** Zset delivery_tag → unix time (float seconds) of delivery, read by the visibility-timeout restore. */
  readonly unackedIndex: string;
  /** The lock kombu's `restore_visible` takes, so that one process restores at a time. */
  readonly unackedMutex: string;

  constructor(readonly prefix: string) {
    this.unacked = `${prefix}unacked`;
    this.unackedIndex = `${prefix}unacked_index`;
    this.unackedMutex = `${prefix}unacked_mutex`;
  }

  /** The priority step a message priority falls into: 0-2 → 0, 3-5 → 3, 6-8 → 6, 9 → 9 (clamped to 0..9). */
  static stepOf(priority: unknown): number {
    const p =
      typeof priority === 'number' && Number.isFinite(priority) ? Math.min(9, Math.max(0, Math.floor(priority))) : 0;
    let step = 0;
    for (const s of PRIORITY_STEPS) if (s <= p) step = s;
    return step;
  }

  /** The list holding a queue's messages of one priority step: `q`, `q\x06\x163`, `q\x06\x166`, `q\x06\x169`. */
  bucket(queue: string, priority: unknown = 0): string {
    const step = RedisKeys.stepOf(priority);
    return step === 0 ? `${this.prefix}${queue}` : `${this.prefix}${queue}${KOMBU_SEP}${step}`;
  }

  /** The four bucket lists of a queue, in serving order. */
  buckets(queue: string): string[] {
    return PRIORITY_STEPS.map((s) => this.bucket(queue, s));
  }

  /** kombu's routing table of an exchange (a set). */
  binding(exchange: string): string {
    return `${this.prefix}_kombu.binding.${exchange}`;
  }

  /** The member Celery writes for a direct queue: `routing_key SEP pattern SEP queue`, pattern empty. */
  static bindingMember(routingKey: string, queue: string): string {
    return `${routingKey}${KOMBU_SEP}${KOMBU_SEP}${queue}`;
  }

  /** Our record of a consumer's last reserve call, read back when its reply was lost (see reserve.script.ts). */
  reserveReceipt(consumerId: string): string {
    return `${this.prefix}_taskq.reserve.${consumerId}`;
  }

  /**
   * Our sorted set of a queue's messages held until a time (countdown, eta, retries, deferred
   * deliveries): member = the envelope text, score = due time in ms since the epoch. The
   * `_taskq.` namespace keeps it clear of kombu's keys (queue lists, `_kombu.*`, `unacked*`);
   * kombu never reads it, so only our consumers move due messages to the queue.
   */
  delayed(queue: string): string {
    return `${this.prefix}_taskq.delayed.${queue}`;
  }

  /** A list our direct-exchange reader blocks on besides its queues, so a push to it wakes the reader at once. */
  readerWake(readerId: string): string {
    return `${this.prefix}_taskq.wake.${readerId}`;
  }

  /**
   * kombu's Pub/Sub channel of a fanout exchange (celery-wire.md 3.7): `/<db>.<exchange>`, plus
   * `/<routing key>` when the key is non-empty (fanout_patterns), after the key prefix.
   */
  channel(db: number, exchange: string, routingKey = ''): string {
    return `${this.channelPrefix(db)}${exchange}${routingKey ? `/${routingKey}` : ''}`;
  }

  /** What every fanout channel of the DB starts with: the key prefix and `/<db>.`. */
  channelPrefix(db: number): string {
    return `${this.prefix}/${db}.`;
  }

  /** The next free start slot of a rate limit shared by all workers (ours, not kombu's). */
  rateSlot(name: string): string {
    return `${this.prefix}_taskq.rate.${name}`;
  }

  /** Any list by queue name (dead letters live in an ordinary list). */
  list(name: string): string {
    return `${this.prefix}${name}`;
  }
}

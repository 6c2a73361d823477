import { TaskMessage } from '../../protocol/task-message';
import { Delivery } from '../broker.interface';
import { KombuEnvelope, messageOf, parseEnvelope } from '../kombu/kombu-envelope';
import { RedisResultWrite } from '../../transports/redis/result-write';

/** How a consumer settles a delivery; the consumer owns the Redis side. */
export interface DeliverySettler {
  ack(d: RedisDelivery): Promise<void>;
  /** True when `server` (a result backend's) is the server and db of this consumer's keys. */
  sameServer(server: string): boolean;
  /** Stores the result, then acks, in one script. */
  ackWithResult(d: RedisDelivery, write: RedisResultWrite): Promise<void>;
  requeue(d: RedisDelivery): Promise<void>;
  deadLetter(d: RedisDelivery, reason: string): Promise<void>;
  /** Resolves to false when the message was no longer in unacked (already back on its queue). */
  defer(d: RedisDelivery, at: Date): Promise<boolean>;
}

/**
 * One message taken by the reserve script. It is registered in `unacked` under `tag` until it is
 * settled, exactly once; later calls are no-ops.
 */
export class RedisDelivery implements Delivery {
  readonly message: TaskMessage;
  readonly exchange: string;
  readonly routingKey: string;
  readonly redelivered: boolean;
  readonly transportError?: Error;
  /** The envelope when the item was one, for the dead-letter record. */
  readonly envelope: KombuEnvelope | null;
  /** The list item as it was (a non-envelope the reserve script wrapped is unwrapped). */
  readonly raw: string;
  private settled = false;

  constructor(
    readonly queue: string,
    readonly tag: string,
    /** The item the reserve script returned. */
    item: string,
    private readonly settler: DeliverySettler,
  ) {
    let env: KombuEnvelope | null = null;
    let message: TaskMessage;
    let raw = item;
    try {
      env = parseEnvelope(item);
      message = messageOf(env);
    } catch (err) {
      // Parsed once on the fast path; only a failed parse looks for the reserve script's wrapper
      // and reports what is wrong with the item inside it.
      raw = unwrapRawItem(item);
      this.transportError = raw === item ? (err as Error) : whyNotAnEnvelope(raw);
      env = null;
      message = { headers: {}, properties: {}, contentType: '', contentEncoding: '', body: Buffer.from(raw, 'utf8') };
    }
    this.raw = raw;
    this.envelope = env;
    this.message = message;
    const info = env?.properties?.delivery_info;
    this.exchange = typeof info?.exchange === 'string' ? info.exchange : '';
    this.routingKey = typeof info?.routing_key === 'string' ? info.routing_key : queue;
    this.redelivered = Boolean(info?.redelivered || env?.headers?.redelivered);
  }

  /** True once settled (or given back by close()). */
  get isSettled(): boolean {
    return this.settled;
  }

  /** Marks it settled; false when it already was. */
  claim(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return true;
  }

  ack(): Promise<void> {
    return this.claim() ? this.settler.ack(this) : Promise.resolve();
  }

  /**
   * Stores `write` and acks in one script when the result lives on this broker's server and db;
   * null (nothing done) when it does not, or when this delivery is already settled.
   */
  ackWithResult(write: RedisResultWrite): Promise<void> | null {
    if (this.settled || !this.settler.sameServer(write.server)) return null;
    this.settled = true;
    return this.settler.ackWithResult(this, write);
  }

  reject(requeue: boolean): Promise<void> {
    if (!this.claim()) return Promise.resolve();
    return requeue ? this.settler.requeue(this) : this.settler.ack(this);
  }

  /** Hands the message to the queue's delayed set until `at` (Redis holds it, not this process). */
  async deferUntil(at: Date): Promise<void> {
    if (this.claim()) await this.settler.defer(this, at);
  }

  deadLetter(reason: string): Promise<void> {
    return this.claim() ? this.settler.deadLetter(this, reason) : Promise.resolve();
  }
}

/** The parse error of an item that is not an envelope. */
function whyNotAnEnvelope(raw: string): Error {
  try {
    messageOf(parseEnvelope(raw));
    return new Error('The item was wrapped as a non-envelope by the reserve script.');
  } catch (err) {
    return err as Error;
  }
}

/**
 * A list item the reserve script had to wrap (it was not a JSON object), or restored in that
 * wrapper by a Python worker: returns the original item.
 */
export function unwrapRawItem(item: string): string {
  if (!item.includes('"taskq_raw"')) return item;
  try {
    const o = JSON.parse(item) as { taskq_raw?: unknown; body?: unknown };
    return typeof o.taskq_raw === 'string' && o.body === undefined ? o.taskq_raw : item;
  } catch {
    return item;
  }
}

/** The dead-letter record: `{queue, reason, at, envelope}` with the envelope text kept verbatim, or `raw` when it was none. */
export function deadLetterRecord(d: RedisDelivery, reason: string, at = new Date()): string {
  const head = `{"queue": ${JSON.stringify(d.queue)}, "reason": ${JSON.stringify(reason)}, "at": ${JSON.stringify(at.toISOString())}`;
  return d.envelope ? `${head}, "envelope": ${d.raw}}` : `${head}, "envelope": null, "raw": ${JSON.stringify(d.raw)}}`;
}

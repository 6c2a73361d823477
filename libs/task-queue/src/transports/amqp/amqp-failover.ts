import { BrokerUrlEntry, maskBrokerUrl, parseBrokerUrl } from '../broker-url';
import { amqpConnectTarget } from './amqp.probe';

/**
 * kombu's AMQP failover list (`amqp://h1//;amqp://h2//`), round-robin as kombu's default
 * `failover_strategy`: amqplib's recovery reconnects to ONE target, so we hand it an object whose
 * fields are read at each attempt, and move to the next entry after a failed attempt or a lost
 * connection.
 */
export class AmqpFailoverTarget {
  private readonly entries: BrokerUrlEntry[];
  private index = 0;

  constructor(
    url: string,
    private readonly heartbeat?: number,
  ) {
    this.entries = parseBrokerUrl(url, 'brokerUrl').entries;
  }

  /** More than one entry: failover is on. */
  get isList(): boolean {
    return this.entries.length > 1;
  }

  /** The entry in use, masked, for logs. */
  get current(): string {
    return maskBrokerUrl(this.entries[this.index].raw);
  }

  /** Moves to the next entry (wraps around). */
  next(): void {
    this.index = (this.index + 1) % this.entries.length;
  }

  /** What amqplib's connect() takes: an object whose fields follow the current entry. */
  target(): Record<string, unknown> {
    // Arrow functions keep `this`: each getter reads the entry current at the time of the attempt.
    const field = (k: string) => () => amqpConnectTarget(this.entries[this.index], this.heartbeat)[k];
    const out: Record<string, unknown> = {};
    for (const k of ['protocol', 'hostname', 'port', 'username', 'password', 'vhost', 'heartbeat', 'frameMax']) {
      Object.defineProperty(out, k, { get: field(k), enumerable: true });
    }
    return out;
  }
}

import type Redis from 'ioredis';
import { RedisEndpoint } from './redis-url';
import { ReadyGate, RedisHealth, closeConnection, createRedisConnection, withReconnectOrUnavailable } from './redis.connection';
import { KeyedChain } from './keyed-chain';

/** Gets each message published on a channel that matches the pattern it was added with. */
export type ChannelListener = (channel: string, payload: string) => void;

/**
 * ONE Pub/Sub connection per broker for every fanout exchange it listens to (pidbox, events),
 * however many listeners there are. A pattern is PSUBSCRIBEd when its first listener comes and
 * PUNSUBSCRIBEd when its last one goes; the commands of one pattern are chained, so a quick
 * remove/add pair cannot end up reversed. ioredis subscribes again by itself after a reconnect;
 * what was published meanwhile is lost, as it is for kombu (Pub/Sub keeps nothing).
 */
export class PatternSubscriber {
  private conn: Redis | null = null;
  private gate: ReadyGate | null = null;
  private readonly listeners = new Map<string, Set<ChannelListener>>();
  private readonly chains = new KeyedChain();

  constructor(
    private readonly endpoint: RedisEndpoint,
    private readonly health: RedisHealth,
    private readonly reconnectMaxDelay: number,
    private readonly onListenerError: (err: Error) => void,
  ) {}

  /** Resolves once Redis confirmed the PSUBSCRIBE; returns the function that removes this listener. */
  async add(pattern: string, listener: ChannelListener, deadline: number, what: () => string): Promise<() => Promise<void>> {
    const conn = this.connection();
    let set = this.listeners.get(pattern);
    const first = !set;
    if (!set) this.listeners.set(pattern, (set = new Set()));
    set.add(listener);
    const remove = () => this.remove(pattern, listener);
    try {
      await (first ? this.chains.run(pattern, () => withReconnectOrUnavailable(conn, this.gate!, deadline, what, () => conn.psubscribe(pattern))) : this.chains.current(pattern));
    } catch (err) {
      await remove();
      throw err;
    }
    return remove;
  }

  /** Patterns subscribed (for tests and metrics). */
  get size(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (this.conn) await closeConnection(this.conn);
  }

  private async remove(pattern: string, listener: ChannelListener): Promise<void> {
    const set = this.listeners.get(pattern);
    if (!set?.delete(listener) || set.size) return;
    this.listeners.delete(pattern);
    const conn = this.conn;
    if (conn && conn.status === 'ready') await this.chains.run(pattern, () => conn.punsubscribe(pattern)).catch(() => undefined);
  }

  private deliver(pattern: string, channel: string, payload: string): void {
    for (const l of [...(this.listeners.get(pattern) ?? [])]) {
      try {
        l(channel, payload);
      } catch (err) {
        this.onListenerError(err as Error);
      }
    }
  }



  private connection(): Redis {
    if (this.conn) return this.conn;
    const conn = createRedisConnection(this.endpoint, 'psubscribe', this.health, this.reconnectMaxDelay);
    this.gate = new ReadyGate(conn);
    conn.on('pmessage', (pattern: string, channel: string, payload: string) => this.deliver(pattern, channel, payload));
    return (this.conn = conn);
  }
}

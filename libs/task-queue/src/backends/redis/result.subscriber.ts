import type Redis from 'ioredis';
import { RedisEndpoint } from '../../brokers/redis/redis-url';
import { ReadyGate, RedisHealth, closeConnection, createRedisConnection, withReconnectOrUnavailable } from '../../brokers/redis/redis.connection';
import { KeyedChain } from '../../brokers/redis/keyed-chain';

type JsonListener = (json: string) => void;

/**
 * ONE subscriber connection for every result this process waits on. A channel is SUBSCRIBEd
 * when its first listener comes and UNSUBSCRIBEd when its last one goes; the commands of one
 * channel are chained, so a quick unsubscribe/subscribe pair cannot end up reversed.
 */
export class ResultSubscriber {
  private conn: Redis | null = null;
  private gate: ReadyGate | null = null;
  private readonly listeners = new Map<string, Set<JsonListener>>();
  private readonly chains = new KeyedChain();
  private wasReady = false;

  constructor(
    private readonly endpoint: RedisEndpoint,
    private readonly health: RedisHealth,
    private readonly reconnectMaxDelay: number,
    /** Called after a reconnect with every channel still wanted: a PUBLISH sent meanwhile was missed. */
    private readonly onResubscribed: (channels: string[]) => void,
  ) {}

  /** Resolves once Redis confirmed the SUBSCRIBE; returns the function that removes this listener. */
  async add(channel: string, listener: JsonListener, deadline: number, what: () => string): Promise<() => void> {
    const conn = this.connection();
    let set = this.listeners.get(channel);
    const first = !set;
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    const remove = () => this.remove(channel, listener);
    try {
      await (first ? this.chains.run(channel, () => withReconnectOrUnavailable(conn, this.gate!, deadline, what, () => conn.subscribe(channel))) : this.chains.current(channel));
    } catch (err) {
      remove();
      throw err;
    }
    return remove;
  }

  /** Hands a JSON to the listeners of a channel, as if it had been published. */
  deliver(channel: string, json: string): void {
    for (const l of [...(this.listeners.get(channel) ?? [])]) l(json);
  }

  /** How many channels are subscribed (for tests and metrics). */
  get size(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (this.conn) await closeConnection(this.conn);
  }

  private remove(channel: string, listener: JsonListener): void {
    const set = this.listeners.get(channel);
    if (!set?.delete(listener) || set.size) return;
    this.listeners.delete(channel);
    const conn = this.conn;
    if (conn && conn.status === 'ready') void this.chains.run(channel, () => conn.unsubscribe(channel)).catch(() => undefined);
  }



  private connection(): Redis {
    if (this.conn) return this.conn;
    const conn = createRedisConnection(this.endpoint, 'subscribe', this.health, this.reconnectMaxDelay);
    this.gate = new ReadyGate(conn);
    conn.on('message', (channel: string, json: string) => this.deliver(channel, json));
    // ioredis re-subscribes by itself after a reconnect (autoResubscribe); we re-read what was missed.
    conn.on('ready', () => {
      if (this.wasReady && this.listeners.size) this.onResubscribed([...this.listeners.keys()]);
      this.wasReady = true;
    });
    return (this.conn = conn);
  }
}

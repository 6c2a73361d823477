import type Redis from 'ioredis';
import { RedisEndpoint } from './redis-url';
import {
  ReadyGate,
  RedisHealth,
  closeConnection,
  createRedisConnection,
  withReconnectOrUnavailable,
} from './redis.connection';
import { KeyedChain } from './keyed-chain';

/** Gets each message published on a channel its key names (the channel itself, or a matching pattern). */
export type SubscriptionListener = (payload: string, channel: string) => void;

export interface RedisSubscriberOptions {
  /** `subscribe`: keys are channels (results). `psubscribe`: keys are patterns (pidbox, events). */
  mode: 'subscribe' | 'psubscribe';
  reconnectMaxDelay: number;
  /** A listener that throws is reported here; without it, the error is not caught (results' listeners do not throw). */
  onListenerError?: (err: Error) => void;
  /** Called after a reconnect with every key still wanted: what was published meanwhile was missed. */
  onResubscribed?: (keys: string[]) => void;
}

/**
 * ONE Pub/Sub connection for every channel (or pattern) a broker or backend listens to, however
 * many listeners there are. A key is (P)SUBSCRIBEd when its first listener comes and
 * (P)UNSUBSCRIBEd when its last one goes; the commands of one key are chained, so a quick
 * remove/add pair cannot end up reversed. ioredis subscribes again by itself after a reconnect;
 * Pub/Sub keeps nothing, so what was published meanwhile is lost unless `onResubscribed` re-reads it.
 */
export class RedisSubscriber {
  private conn: Redis | null = null;
  private gate: ReadyGate | null = null;
  private readonly listeners = new Map<string, Set<SubscriptionListener>>();
  private readonly chains = new KeyedChain();
  private wasReady = false;

  constructor(
    private readonly endpoint: RedisEndpoint,
    private readonly health: RedisHealth,
    private readonly options: RedisSubscriberOptions,
  ) {}

  /** Resolves once Redis confirmed the (P)SUBSCRIBE; returns the function that removes this listener. */
  async add(
    key: string,
    listener: SubscriptionListener,
    deadline: number,
    what: () => string,
  ): Promise<() => Promise<void>> {
    const conn = this.connection();
    let set = this.listeners.get(key);
    const first = !set;
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    const remove = () => this.remove(key, listener);
    try {
      const subscribe = this.options.mode === 'subscribe' ? () => conn.subscribe(key) : () => conn.psubscribe(key);
      await (first
        ? this.chains.run(key, () => withReconnectOrUnavailable(conn, this.gate!, deadline, what, subscribe))
        : this.chains.current(key));
    } catch (err) {
      await remove();
      throw err;
    }
    return remove;
  }

  /** Hands a payload to the listeners of a key, as if it had been published on `channel`. */
  deliver(key: string, payload: string, channel = key): void {
    const onError = this.options.onListenerError;
    for (const l of [...(this.listeners.get(key) ?? [])]) {
      if (!onError) {
        l(payload, channel);
        continue;
      }
      try {
        l(payload, channel);
      } catch (err) {
        onError(err as Error);
      }
    }
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (this.conn) await closeConnection(this.conn);
  }

  private async remove(key: string, listener: SubscriptionListener): Promise<void> {
    const set = this.listeners.get(key);
    if (!set?.delete(listener) || set.size) return;
    this.listeners.delete(key);
    const conn = this.conn;
    if (!conn || conn.status !== 'ready') return;
    const unsubscribe = this.options.mode === 'subscribe' ? () => conn.unsubscribe(key) : () => conn.punsubscribe(key);
    await this.chains.run(key, unsubscribe).catch(() => undefined);
  }

  private connection(): Redis {
    if (this.conn) return this.conn;
    const { mode, reconnectMaxDelay, onResubscribed } = this.options;
    const conn = createRedisConnection(this.endpoint, mode, this.health, reconnectMaxDelay);
    this.gate = new ReadyGate(conn);
    if (mode === 'subscribe') conn.on('message', (channel: string, payload: string) => this.deliver(channel, payload));
    else
      conn.on('pmessage', (pattern: string, channel: string, payload: string) =>
        this.deliver(pattern, payload, channel),
      );
    if (onResubscribed) {
      // ioredis re-subscribes by itself after a reconnect (autoResubscribe); the owner re-reads what was missed.
      conn.on('ready', () => {
        if (this.wasReady && this.listeners.size) onResubscribed([...this.listeners.keys()]);
        this.wasReady = true;
      });
    }
    return (this.conn = conn);
  }
}

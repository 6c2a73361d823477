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

/** How long a channel whose last listener left stays subscribed, collecting others to unsubscribe with. */
const LEAVE_DELAY_MS = 20;

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
  /** Keys whose last listener left: unsubscribed together by the next leave flush. */
  private readonly leaving = new Set<string>();
  private leaveFlush: Promise<void> | null = null;

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
    // A key whose unsubscribe is still pending is still subscribed: keep it instead of subscribing again.
    const first = !set && !this.leaving.delete(key);
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

  /**
   * The last listener of a key leaving does not unsubscribe at once: the keys left within
   * `LEAVE_DELAY_MS` are unsubscribed by one command. The waiter that just got its result goes on
   * at once (no UNSUBSCRIBE write in the way of its next send and of the reply to it), and many
   * results awaited at once cost one command, not one each. Meanwhile a left channel may still
   * deliver; nobody listens, so it is dropped (a result key is published once it is ready).
   */
  private async remove(key: string, listener: SubscriptionListener): Promise<void> {
    const set = this.listeners.get(key);
    if (!set?.delete(listener) || set.size) return;
    this.listeners.delete(key);
    if (!this.conn || this.conn.status !== 'ready') return;
    this.leaving.add(key);
    await (this.leaveFlush ??= new Promise<void>((r) => setTimeout(r, LEAVE_DELAY_MS).unref()).then(() =>
      this.unsubscribeLeaving(),
    ));
  }

  private async unsubscribeLeaving(): Promise<void> {
    this.leaveFlush = null;
    const keys = [...this.leaving];
    this.leaving.clear();
    const conn = this.conn;
    if (!keys.length || !conn || conn.status !== 'ready') return;
    // After every earlier (un)subscribe of these keys, so an unsubscribe never overtakes a subscribe.
    const before = keys.map((k) => this.chains.current(k)?.catch(() => undefined));
    const op = Promise.all(before).then(() =>
      this.options.mode === 'subscribe' ? conn.unsubscribe(...keys) : conn.punsubscribe(...keys),
    );
    await Promise.all(keys.map((k) => this.chains.run(k, () => op))).catch(() => undefined);
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

import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisEndpoint, parseRedisUrl } from '../transports/redis/redis-url';
import {
  ReadyGate,
  RedisHealth,
  closeConnection,
  createRedisConnection,
  withReconnectOrUnavailable,
} from '../transports/redis/redis.connection';
import { maskUrl } from '../transports/url-mask';
import { BeatEntry } from '../options/beat-options';
import { BeatLeaderInfo, BeatStore, FireOutcome, FireRequest, StoredEntry } from './beat.store';
import { BEAT_FIRE_SCRIPT } from './lua/beat-fire.script';
import { BEAT_LEASE_SCRIPT, BEAT_RELEASE_SCRIPT } from './lua/beat-lease.script';
import { BEAT_DUE_SCRIPT, BEAT_PAUSE_SCRIPT, BEAT_REMOVE_SCRIPT, BEAT_UPSERT_SCRIPT } from './lua/beat-entry.script';

/** Milliseconds a store call waits for an unreachable Redis before it fails. */
const CALL_TIMEOUT_MS = 10_000;

/**
 * The shared store on Redis (RedBeat's layout, plus a lease with fencing): a hash per entry
 * `_taskq.beat.entry.<name>`, the due set `_taskq.beat.due` (score = next due ms), the name set
 * `_taskq.beat.names`, the lease `_taskq.beat.leader` and the fence counter `_taskq.beat.fence`,
 * all after the transport's key prefix. Every change is one Lua script.
 */
export class RedisBeatStore implements BeatStore {
  private readonly logger = new Logger('TaskQueueBeat');
  private readonly endpoint: RedisEndpoint;
  private readonly health: RedisHealth;
  private conn: Redis | null = null;
  private gate: ReadyGate | null = null;
  private readonly p: string;

  constructor(
    private readonly url: string,
    keyPrefix: string,
    readonly pushesToBroker: boolean,
    tls?: import('node:tls').ConnectionOptions,
  ) {
    this.endpoint = parseRedisUrl(url, tls);
    this.health = new RedisHealth(this.logger, maskUrl(url));
    this.p = `${keyPrefix}_taskq.beat.`;
  }

  private get due_(): string {
    return `${this.p}due`;
  }
  private get names(): string {
    return `${this.p}names`;
  }
  private get leaderKey(): string {
    return `${this.p}leader`;
  }
  private get fence(): string {
    return `${this.p}fence`;
  }
  private entryKey(name: string): string {
    return `${this.p}entry.${name}`;
  }

  private call<T>(what: string, op: (c: Redis) => Promise<T>): Promise<T> {
    if (!this.conn) {
      this.conn = createRedisConnection(this.endpoint, 'beat', this.health);
      this.gate = new ReadyGate(this.conn);
    }
    const conn = this.conn;
    return withReconnectOrUnavailable(
      conn,
      this.gate!,
      Date.now() + CALL_TIMEOUT_MS,
      () => `Beat store at ${maskUrl(this.url)}: ${what} failed, Redis unreachable for ${CALL_TIMEOUT_MS} ms.`,
      () => op(conn),
    );
  }

  async now(): Promise<number> {
    const [s, us] = await this.call('TIME', (c) => c.time());
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  async upsert(name: string, entry: BeatEntry, source: 'code' | 'runtime', next: number | null): Promise<void> {
    await this.call(`upsert of "${name}"`, (c) =>
      BEAT_UPSERT_SCRIPT.run(
        c,
        [this.entryKey(name), this.due_, this.names],
        [name, JSON.stringify(entry), source, next === null ? '' : String(next)],
      ),
    );
  }

  async remove(name: string): Promise<boolean> {
    const n = await this.call(`removal of "${name}"`, (c) =>
      BEAT_REMOVE_SCRIPT.run<number>(c, [this.entryKey(name), this.due_, this.names], [name]),
    );
    return n > 0;
  }

  async setPaused(name: string, paused: boolean, next: number | null): Promise<boolean> {
    const n = await this.call(`pause/resume of "${name}"`, (c) =>
      BEAT_PAUSE_SCRIPT.run<number>(
        c,
        [this.entryKey(name), this.due_],
        [name, paused ? '1' : '0', next === null ? '' : String(next)],
      ),
    );
    return n > 0;
  }

  async get(name: string): Promise<StoredEntry | null> {
    const h = await this.call(`read of "${name}"`, (c) => c.hgetall(this.entryKey(name)));
    return parseEntry(name, h);
  }

  async list(): Promise<StoredEntry[]> {
    const names = (await this.call('list', (c) => c.smembers(this.names))).sort();
    return this.read(names);
  }

  private async read(names: string[]): Promise<StoredEntry[]> {
    if (!names.length) return [];
    const replies = await this.call('read of entries', (c) => {
      const pipe = c.pipeline();
      for (const n of names) pipe.hgetall(this.entryKey(n));
      return pipe.exec();
    });
    const out: StoredEntry[] = [];
    names.forEach((n, i) => {
      const e = parseEntry(n, (replies?.[i]?.[1] ?? {}) as Record<string, string>);
      if (e) out.push(e);
    });
    return out;
  }

  async due(max: number): Promise<{ entries: StoredEntry[]; earliest: number | null; now: number }> {
    const reply = await this.call('due scan', (c) => BEAT_DUE_SCRIPT.run<string[]>(c, [this.due_], [String(max)]));
    const [now, earliest, ...names] = reply;
    return { now: Number(now), earliest: earliest === '' ? null : Number(earliest), entries: await this.read(names) };
  }

  async acquire(node: string, leaseMs: number): Promise<number | null> {
    const tok = await this.call('lease', (c) =>
      BEAT_LEASE_SCRIPT.run<number | null>(c, [this.leaderKey, this.fence], [node, String(leaseMs)]),
    );
    return tok === null || tok === undefined ? null : Number(tok);
  }

  async release(node: string, token: number): Promise<void> {
    await this.call('lease release', (c) => BEAT_RELEASE_SCRIPT.run(c, [this.leaderKey], [`${node} ${token}`]));
  }

  async leader(): Promise<BeatLeaderInfo | null> {
    const v = await this.call('leader read', (c) => c.get(this.leaderKey));
    const m = v ? /^(.*) (\d+)$/.exec(v) : null;
    return m ? { node: m[1], token: Number(m[2]) } : null;
  }

  async fire(req: FireRequest): Promise<FireOutcome> {
    const keys = [this.fence, this.due_, this.entryKey(req.name)];
    const args: string[] = [
      String(req.token),
      req.name,
      String(req.expectedNext),
      req.next === null ? '' : String(req.next),
      String(req.lastSlot),
      String(req.now),
      String(req.count),
    ];
    if (req.push) {
      keys.push(req.push.list, req.push.bindingKey);
      args.push(req.push.bindingMember, ...req.push.envelopes);
    }
    // Not retried on a lost reply: the script may have run, and running it again is refused
    // anyway ('moved'), so the caller simply plans again from what the store says.
    return this.call(`send of "${req.name}"`, (c) => BEAT_FIRE_SCRIPT.run<FireOutcome>(c, keys, args));
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (c) await closeConnection(c);
  }
}

function parseEntry(name: string, h: Record<string, string>): StoredEntry | null {
  if (!h || !h.entry) return null;
  const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));
  return {
    name,
    entry: JSON.parse(h.entry) as BeatEntry,
    source: h.source === 'code' ? 'code' : 'runtime',
    paused: h.paused === '1',
    next: num(h.next),
    lastSlot: num(h.lastSlot),
    lastRunAt: num(h.lastRunAt),
    runs: Number(h.runs ?? 0),
  };
}

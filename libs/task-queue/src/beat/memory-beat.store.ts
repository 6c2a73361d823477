import { BeatEntry } from '../options/beat-options';
import { BeatLeaderInfo, BeatStore, FireOutcome, FireRequest, StoredEntry } from './beat.store';

interface Lease {
  node: string;
  token: number;
  until: number;
}

/**
 * The in-process store for the memory broker: the apps of one process that use the same
 * `memory://name` share it (as they share the broker), with the same lease and fencing rules as
 * Redis. A tick scans every entry (fine for the tests and demos the memory broker is for).
 */
export class MemoryBeatStore implements BeatStore {
  private static readonly shared = new Map<string, MemoryBeatStore>();
  readonly pushesToBroker = false;
  private readonly entries = new Map<string, StoredEntry>();
  private lease: Lease | null = null;
  private fence = 0;

  /** The store of a `memory://name` URL, shared within the process. */
  static for(url: string): MemoryBeatStore {
    let s = MemoryBeatStore.shared.get(url);
    if (!s) MemoryBeatStore.shared.set(url, (s = new MemoryBeatStore()));
    return s;
  }

  async now(): Promise<number> {
    return Date.now();
  }

  async upsert(name: string, entry: BeatEntry, source: 'code' | 'runtime', next: number | null): Promise<void> {
    const cur = this.entries.get(name);
    const copy = JSON.parse(JSON.stringify(entry)) as BeatEntry;
    if (!cur) {
      this.entries.set(name, {
        name,
        entry: copy,
        source,
        paused: false,
        next,
        lastSlot: null,
        lastRunAt: null,
        runs: 0,
      });
      return;
    }
    if (JSON.stringify(cur.entry) === JSON.stringify(copy) && cur.source === source) return;
    cur.entry = copy;
    cur.source = source;
    if (!cur.paused) cur.next = next;
  }

  async remove(name: string): Promise<boolean> {
    return this.entries.delete(name);
  }

  async setPaused(name: string, paused: boolean, next: number | null): Promise<boolean> {
    const cur = this.entries.get(name);
    if (!cur) return false;
    if (cur.paused === paused) return true;
    cur.paused = paused;
    cur.next = paused ? null : next;
    return true;
  }

  async get(name: string): Promise<StoredEntry | null> {
    const e = this.entries.get(name);
    return e ? structuredClone(e) : null;
  }

  async list(): Promise<StoredEntry[]> {
    return [...this.entries.values()].map((e) => structuredClone(e)).sort((a, b) => a.name.localeCompare(b.name));
  }

  async due(max: number): Promise<{ now: number; entries: StoredEntry[]; earliest: number | null }> {
    const now = Date.now();
    const waiting = [...this.entries.values()].filter((e) => !e.paused && e.next !== null) as (StoredEntry & {
      next: number;
    })[];
    const due = waiting
      .filter((e) => e.next <= now)
      .sort((a, b) => a.next - b.next)
      .slice(0, max);
    const later = waiting.filter((e) => e.next > now).map((e) => e.next);
    return { now, entries: due.map((e) => structuredClone(e)), earliest: later.length ? Math.min(...later) : null };
  }

  async acquire(node: string, leaseMs: number): Promise<number | null> {
    const now = Date.now();
    if (this.lease && this.lease.until > now && this.lease.node !== node) return null;
    if (this.lease && this.lease.until > now && this.lease.node === node) {
      this.lease.until = now + leaseMs;
      return this.lease.token;
    }
    this.lease = { node, token: ++this.fence, until: now + leaseMs };
    return this.lease.token;
  }

  async release(node: string, token: number): Promise<void> {
    if (this.lease && this.lease.node === node && this.lease.token === token) this.lease = null;
  }

  async leader(): Promise<BeatLeaderInfo | null> {
    return this.lease && this.lease.until > Date.now() ? { node: this.lease.node, token: this.lease.token } : null;
  }

  async fire(req: FireRequest): Promise<FireOutcome> {
    if (req.token !== this.fence) return 'fenced';
    const cur = this.entries.get(req.name);
    if (!cur || cur.paused || cur.next !== req.expectedNext) return 'moved';
    cur.next = req.next;
    if (req.count > 0) {
      cur.lastSlot = req.lastSlot;
      cur.lastRunAt = req.now;
      cur.runs += req.count;
    }
    return 'sent';
  }

  async close(): Promise<void> {
    // Shared by the process's apps: nothing to close.
  }
}

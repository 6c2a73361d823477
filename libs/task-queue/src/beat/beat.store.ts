import { BeatEntry } from '../options/beat-options';

/** An entry as stored, with its run-time state. */
export interface StoredEntry {
  name: string;
  entry: BeatEntry;
  /** Declared in code (module `beatSchedule`, `@Periodic`) or added at run time (BeatService, CLI). */
  source: 'code' | 'runtime';
  paused: boolean;
  /** Next due time (ms), or null when paused or finished. */
  next: number | null;
  /** Slot time of the last send (ms), or null. */
  lastSlot: number | null;
  /** When the last send happened (ms, store clock), or null. */
  lastRunAt: number | null;
  /** Sends so far. */
  runs: number;
}

/** The current leader: a node id and its fencing token. */
export interface BeatLeaderInfo {
  node: string;
  token: number;
}

/** Raw messages pushed by the store in the same atomic step as the bookkeeping (Redis broker on the store's Redis). */
export interface BrokerPush {
  /** The queue's priority-bucket list key. */
  list: string;
  /** kombu's `_kombu.binding.<exchange>` set and the queue's member, so Celery's tools see the queue. */
  bindingKey: string;
  bindingMember: string;
  /** kombu envelopes, oldest slot first. */
  envelopes: string[];
}

export interface FireRequest {
  name: string;
  /** The caller's fencing token: refused unless it is the latest one handed out. */
  token: number;
  /** The next-due the caller planned from: refused unless the entry still has it (another send moved it). */
  expectedNext: number;
  /** New next-due, or null to drop the entry from the due set (finished). */
  next: number | null;
  /** Slot of the last message sent. */
  lastSlot: number;
  /** Store time of the send. */
  now: number;
  /** Messages sent in this step (for `runs`). */
  count: number;
  push?: BrokerPush;
}

/** `sent`: bookkept (and pushed); `fenced`: the token is stale (another leader took over); `moved`: the entry changed under us. */
export type FireOutcome = 'sent' | 'fenced' | 'moved';

/**
 * Where entries, their due times and the leader lease live, shared by every replica (Redis) or by
 * the apps of one process (memory). Every method is atomic on its own.
 */
export interface BeatStore {
  /** Whether `fire` can push broker messages in its atomic step (the store is the broker's Redis). */
  readonly pushesToBroker: boolean;
  /** The store's clock (Redis TIME), the one every replica plans from. */
  now(): Promise<number>;
  /**
   * Creates or updates an entry. When it exists with the same definition nothing changes; with a
   * new definition its next-due becomes `next`; a pause, its runs and last run are always kept.
   */
  upsert(name: string, entry: BeatEntry, source: 'code' | 'runtime', next: number | null): Promise<void>;
  remove(name: string): Promise<boolean>;
  /** Pauses (drops it from the due set) or resumes (due again at `next`). False when there is no such entry. */
  setPaused(name: string, paused: boolean, next: number | null): Promise<boolean>;
  get(name: string): Promise<StoredEntry | null>;
  list(): Promise<StoredEntry[]>;
  /**
   * The store's clock `now`, the entries due by it (at most `max`, earliest first) and the earliest
   * due time after it, read together, so every replica plans from the same clock.
   */
  due(max: number): Promise<{ now: number; entries: StoredEntry[]; earliest: number | null }>;
  /** Takes or keeps the lease: the token when this node leads (a new, higher one on takeover), else null. */
  acquire(node: string, leaseMs: number): Promise<number | null>;
  /** Gives the lease up if this node holds it with this token. */
  release(node: string, token: number): Promise<void>;
  leader(): Promise<BeatLeaderInfo | null>;
  /** Checks the fence and the entry's next-due, then advances it, counts the run and pushes, in one step. */
  fire(req: FireRequest): Promise<FireOutcome>;
  close(): Promise<void>;
}

import { ResultMeta } from '../protocol/result-meta';
import type { AcksWithResult } from '../transports/redis/result-write';

/**
 * The result backend seam: where task states and results live, in Celery's meta format.
 * Backends stay thin (get, set, delete, notify); the meaning of states lives in the worker and
 * in AsyncResult. Like brokers, they connect lazily on first use.
 */
export interface ResultBackend {
  /** Backend name for logs: `memory`, `redis`, `rpc`. */
  readonly name: string;

  /** The URL with any password masked. */
  describe(): string;

  /**
   * The `reply_to` property our messages carry. The rpc:// backend needs replies sent to its own
   * queue; other backends return a stable per-process id, as Celery's `thread_oid`.
   */
  readonly replyTo: string;

  connect(): Promise<void>;

  /**
   * Stores a state and notifies waiters (Redis: SETEX + PUBLISH in one round trip).
   * Never overwrites a stored SUCCESS (Celery's rule). `target` tells rpc:// where to reply.
   */
  store(meta: ResultMeta, target?: ReplyTarget): Promise<void>;

  /**
   * Stores a final state and acks the delivery it came with in one step when the transport allows
   * (Redis: one script when broker and backend share a server and db): resolves once both are done.
   * Returns null, having done nothing, when it cannot: the caller then stores and acks as usual.
   */
  storeWithAck?(meta: ResultMeta, delivery: AcksWithResult): Promise<void> | null;

  /** The stored meta, or null when nothing is stored (the task reads as PENDING). */
  get(taskId: string): Promise<ResultMeta | null>;

  /**
   * Calls `listener` with every meta stored for `taskId` from now on. Resolves once the
   * subscription is live, so a `get()` after it cannot miss a state. Returns the unsubscribe.
   */
  subscribe(taskId: string, listener: (meta: ResultMeta) => void): Promise<() => void>;

  /** Deletes the stored result. */
  forget(taskId: string): Promise<void>;

  close(): Promise<void>;

  // Groups and chords (celery-wire.md 5.5). Optional: the rpc:// backend has none, as in Celery.

  /** Stores a group's result tuple as `celery-taskset-meta-<id>` (GroupResult.save()). */
  saveGroup?(groupId: string, resultTuple: unknown[]): Promise<void>;
  /** The saved tuple, or null. */
  getGroup?(groupId: string): Promise<unknown[] | null>;
  forgetGroup?(groupId: string): Promise<void>;

  /** Writes a chord's header size (`celery-taskset-meta-<gid>.s`) before any header task is sent. */
  setChordSize?(groupId: string, size: number): Promise<void>;
  /**
   * Records one header task's outcome, atomically. Resolves to every part, in header order, for the
   * one call that completed the chord; to null for every other call, and after closeChord().
   */
  chordPartReturn?(groupId: string, part: ChordPart): Promise<ChordPart[] | null>;
  /** Closes an unfinished chord (its timeout passed): true if this call closed it, false if it had completed or was closed. */
  closeChord?(groupId: string): Promise<boolean>;
}

/** A chord header task's outcome, as kept in the chord's counter. */
export interface ChordPart {
  taskId: string;
  index: number | null;
  state: string;
  result: unknown;
}

/** Where the request asked its replies to go (rpc:// only). */
export interface ReplyTarget {
  replyTo: string | null;
  correlationId: string;
}

import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { ResolvedTaskQueueOptions } from '../../options/resolved-options';
import { ResultMeta, decodeResultMeta, encodeResultMeta } from '../../protocol/result-meta';
import { TaskState } from '../../states';
import { ChordPart, ResultBackend } from '../result-backend.interface';

interface Entry {
  json: string;
  expiresAt: number;
}

/** The results of one `memory://name`, shared in this process. Expiry is checked on read: no timers. */
class MemoryResultStore extends EventEmitter {
  readonly entries = new Map<string, Entry>();
  readonly groups = new Map<string, unknown[]>();
  readonly chords = new Map<string, { size: number; parts: Map<string, ChordPart>; finished: boolean }>();
  constructor() {
    super();
    this.setMaxListeners(0);
  }
}

const stores = new Map<string, MemoryResultStore>();

/**
 * An in-process result backend. Stores the same JSON as Redis would, so tests exercise the real
 * encoding; waiters are woken by an event, never by polling.
 */
export class MemoryResultBackend implements ResultBackend {
  readonly name = 'memory';
  readonly replyTo = randomUUID();
  private readonly store_: MemoryResultStore;
  private readonly ttlMs: number;

  constructor(
    private readonly url: string,
    options: ResolvedTaskQueueOptions,
  ) {
    const key = url.replace(/^memory:(\/\/)?/i, '');
    let s = stores.get(key);
    if (!s) stores.set(key, (s = new MemoryResultStore()));
    this.store_ = s;
    this.ttlMs = options.resultExpires > 0 ? options.resultExpires * 1000 : Infinity;
  }

  describe(): string {
    return this.url;
  }

  async connect(): Promise<void> {}

  async store(meta: ResultMeta): Promise<void> {
    const current = this.read(meta.task_id);
    if (current?.status === TaskState.SUCCESS) return;
    const json = encodeResultMeta(meta);
    this.store_.entries.set(meta.task_id, { json, expiresAt: Date.now() + this.ttlMs });
    this.store_.emit(meta.task_id, json);
  }

  async get(taskId: string): Promise<ResultMeta | null> {
    return this.read(taskId);
  }

  async subscribe(taskId: string, listener: (meta: ResultMeta) => void): Promise<() => void> {
    const onJson = (json: string) => listener(decodeResultMeta(json));
    this.store_.on(taskId, onJson);
    return () => this.store_.off(taskId, onJson);
  }

  async forget(taskId: string): Promise<void> {
    this.store_.entries.delete(taskId);
  }

  async close(): Promise<void> {}

  async saveGroup(groupId: string, resultTuple: unknown[]): Promise<void> {
    this.store_.groups.set(groupId, resultTuple);
  }

  async getGroup(groupId: string): Promise<unknown[] | null> {
    return this.store_.groups.get(groupId) ?? null;
  }

  async forgetGroup(groupId: string): Promise<void> {
    this.store_.groups.delete(groupId);
  }

  async setChordSize(groupId: string, size: number): Promise<void> {
    this.store_.chords.set(groupId, { size, parts: new Map(), finished: false });
  }

  async chordPartReturn(groupId: string, part: ChordPart): Promise<ChordPart[] | null> {
    const chord = this.store_.chords.get(groupId);
    if (!chord || chord.finished) return null;
    chord.parts.set(part.taskId, part); // a redelivered task replaces its own part: counted once
    if (chord.parts.size < chord.size) return null;
    chord.finished = true;
    return [...chord.parts.values()].sort((a, b) => (a.index ?? Infinity) - (b.index ?? Infinity));
  }

  async closeChord(groupId: string): Promise<boolean> {
    const chord = this.store_.chords.get(groupId);
    if (!chord || chord.finished) return false;
    chord.finished = true;
    return true;
  }

  private read(taskId: string): ResultMeta | null {
    const e = this.store_.entries.get(taskId);
    if (!e) return null;
    if (e.expiresAt <= Date.now()) {
      this.store_.entries.delete(taskId);
      return null;
    }
    return decodeResultMeta(e.json);
  }
}

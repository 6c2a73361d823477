import { readFileSync, writeFileSync, renameSync } from 'node:fs';

/**
 * Ids of revoked tasks, bounded as Celery's LimitedSet: at most `maxSize` entries, each kept
 * `ttlSeconds`. With a file it survives restarts (Celery's `--statedb`), written atomically.
 */
export class RevokedSet {
  private readonly entries = new Map<string, number>();
  private dirty = false;
  private flushing: NodeJS.Timeout | null = null;

  constructor(
    private readonly file = '',
    private readonly maxSize = 50_000,
    private readonly ttlSeconds = 10_800,
  ) {
    if (file) this.load();
  }

  has(id: string): boolean {
    const at = this.entries.get(id);
    if (at === undefined) return false;
    if (at + this.ttlSeconds * 1000 < Date.now()) {
      this.entries.delete(id);
      return false;
    }
    return true;
  }

  add(ids: Iterable<string>, at = Date.now()): void {
    for (const id of ids) {
      this.entries.delete(id);
      this.entries.set(id, at);
    }
    while (this.entries.size > this.maxSize) this.entries.delete(this.entries.keys().next().value as string);
    this.scheduleFlush();
  }

  /** Ids with their revoke time in epoch seconds (float), as Celery's mingle shares them. */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, at] of this.entries) out[id] = at / 1000;
    return out;
  }

  ids(): string[] {
    return [...this.entries.keys()].filter((id) => this.has(id));
  }

  /** Writes pending changes now (on shutdown). */
  flush(): void {
    if (this.flushing) clearTimeout(this.flushing);
    this.flushing = null;
    if (!this.file || !this.dirty) return;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ revoked: Object.fromEntries(this.entries) }));
    renameSync(tmp, this.file);
    this.dirty = false;
  }

  private scheduleFlush(): void {
    this.dirty = true;
    if (!this.file || this.flushing) return;
    this.flushing = setTimeout(() => this.flush(), 200);
    this.flushing.unref();
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return; // first start: no state yet
    }
    const saved = (JSON.parse(text) as { revoked?: Record<string, number> }).revoked ?? {};
    const now = Date.now();
    for (const [id, at] of Object.entries(saved)) if (at + this.ttlSeconds * 1000 >= now) this.entries.set(id, at);
  }
}

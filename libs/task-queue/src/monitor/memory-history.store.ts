import { CeleryEvent } from './celery-event';
import { HistoryBound, HistoryStore } from './history.store';
import { TaskFilter, TaskRecord, matches, recordOf, taskPatch } from './task-record';

/** The same history in this process (memory:// brokers, tests): bounded by `maxTasks`, lost on restart. */
export class MemoryHistoryStore implements HistoryStore {
  private readonly tasks = new Map<string, { at: number; h: Record<string, string> }>();

  constructor(private readonly bound: HistoryBound) {}

  async record(e: CeleryEvent): Promise<void> {
    const p = taskPatch(e, this.bound.maxField);
    if (!p) return;
    let t = this.tasks.get(p.id);
    if (!t) {
      t = { at: p.at, h: {} };
      this.tasks.set(p.id, t);
      while (this.tasks.size > this.bound.maxTasks) this.tasks.delete(this.tasks.keys().next().value as string);
    }
    if (p.state && p.rank >= Number(t.h.rank ?? -1)) Object.assign(t.h, { state: p.state, rank: String(p.rank) });
    Object.assign(t.h, p.fields);
    const parent = p.parentId ? this.tasks.get(p.parentId) : undefined;
    if (parent) parent.h[`child:${p.id}`] = String(p.at);
  }

  async merge(id: string, fields: Record<string, string>): Promise<void> {
    const t = this.tasks.get(id);
    if (t) Object.assign(t.h, fields);
  }

  async get(id: string): Promise<TaskRecord | null> {
    const t = this.tasks.get(id);
    return t ? recordOf(id, t.h) : null;
  }

  async list(f: TaskFilter): Promise<TaskRecord[]> {
    const all = [...this.tasks.entries()]
      .filter(([, t]) => (f.from === undefined || t.at >= f.from) && (f.to === undefined || t.at <= f.to))
      .sort((a, b) => b[1].at - a[1].at);
    const out: TaskRecord[] = [];
    let skipped = 0;
    for (const [id, t] of all.slice(0, f.scanLimit ?? all.length)) {
      const r = recordOf(id, t.h);
      if (!matches(r, f)) continue;
      if (skipped < (f.offset ?? 0)) skipped++;
      else out.push(r);
      if (out.length >= (f.limit ?? 100)) break;
    }
    return out;
  }

  async size(): Promise<number> {
    return this.tasks.size;
  }

  async close(): Promise<void> {}
}

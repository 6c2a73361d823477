import { ResultMeta } from '../../protocol/result-meta';
import { TaskState } from '../../states';

type Listener = (meta: ResultMeta) => void;

/**
 * The latest state of each task this process heard about on its reply queue, bounded (the oldest
 * entry goes first), and the listeners waiting for more. A stored SUCCESS is never replaced
 * (Celery's rule), so a late duplicate STARTED cannot hide a result.
 */
export class RpcResultCache {
  private readonly latest = new Map<string, ResultMeta>();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.latest.size;
  }

  get(taskId: string): ResultMeta | null {
    return this.latest.get(taskId) ?? null;
  }

  /** Records a reply and tells the listeners of that task. */
  put(meta: ResultMeta): void {
    const id = meta.task_id;
    const current = this.latest.get(id);
    if (current?.status === TaskState.SUCCESS && meta.status !== TaskState.SUCCESS) return;
    // Re-inserting moves the entry to the young end of the Map's order.
    this.latest.delete(id);
    this.latest.set(id, meta);
    while (this.latest.size > this.maxEntries) {
      const oldest = this.latest.keys().next().value as string;
      this.latest.delete(oldest);
    }
    for (const l of [...(this.listeners.get(id) ?? [])]) {
      try {
        l(meta);
      } catch {
        // One failing listener must not keep the state from the others.
      }
    }
  }

  forget(taskId: string): void {
    this.latest.delete(taskId);
  }

  /** Adds a listener; returns the function that removes it. */
  listen(taskId: string, listener: Listener): () => void {
    let set = this.listeners.get(taskId);
    if (!set) this.listeners.set(taskId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(taskId) === set) this.listeners.delete(taskId);
    };
  }
}

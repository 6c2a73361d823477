import { CeleryEvent } from './celery-event';

/** What the dashboard knows about one worker, from its events and its replies to `stats` / `active_queues`. */
export interface WorkerView {
  hostname: string;
  online: boolean;
  /** Last worker-* event, ms since the epoch. */
  lastHeartbeat: number;
  /** Seconds between heartbeats the worker announced (Celery's default 2). */
  freq: number;
  active: number;
  processed: number;
  /** Task-succeeded / task-failed events seen from this worker since the monitor started. */
  succeeded: number;
  failed: number;
  loadavg: number[];
  software: string;
  pid: number | null;
  /** From `active_queues`; empty until the worker answered. */
  queues: string[];
  /** From `stats`: pool implementation and size; null until the worker answered. */
  pool: { implementation: string; maxConcurrency: number | null; processes: number } | null;
}

export interface WorkerTrackerOptions {
  /** Ms after its last heartbeat an offline worker is forgotten (views and metrics). */
  purgeOfflineAfterMs: number;
  /** Called once per worker when it is forgotten, so metrics drop its series. */
  onPurge?: (hostname: string) => void;
  /** Called whenever a worker's view changed. */
  onChange?: (w: WorkerView) => void;
  now?: () => number;
}

/**
 * Online/offline from heartbeats, as Celery's `events.state`: a worker is alive until
 * `freq × 2` seconds pass without a worker-* event (Celery's `expire_window` of 200 %), or at once
 * on worker-offline. Offline workers are purged after `purgeOfflineAfterMs` (Flower#1492: keeping them
 * grows label series forever when workers come and go).
 */
export class WorkerTracker {
  private readonly workers = new Map<string, WorkerView>();
  private readonly now: () => number;

  constructor(private readonly options: WorkerTrackerOptions) {
    this.now = options.now ?? Date.now;
  }

  onEvent(e: CeleryEvent): void {
    const now = this.now();
    if (e.type.startsWith('worker-')) {
      const w = this.ensure(e.hostname, now);
      w.lastHeartbeat = now;
      w.online = e.type !== 'worker-offline';
      if (typeof e.freq === 'number' && e.freq > 0) w.freq = e.freq;
      if (typeof e.active === 'number') w.active = e.active;
      if (typeof e.processed === 'number') w.processed = e.processed;
      if (Array.isArray(e.loadavg)) w.loadavg = e.loadavg.map(Number);
      if (typeof e.sw_ident === 'string') w.software = `${e.sw_ident} ${String(e.sw_ver ?? '')}`.trim();
      if (typeof e.pid === 'number') w.pid = e.pid;
      this.options.onChange?.(w);
      return;
    }
    if (e.type === 'task-succeeded' || e.type === 'task-failed') {
      const w = this.workers.get(e.hostname);
      if (!w) return;
      if (e.type === 'task-succeeded') w.succeeded++;
      else w.failed++;
      this.options.onChange?.(w);
    }
  }

  /** Merges a worker's replies to `stats` and `active_queues`. */
  applyInspect(hostname: string, stats: Record<string, unknown> | undefined, activeQueues: unknown): void {
    const w = this.workers.get(hostname);
    if (!w) return;
    if (Array.isArray(activeQueues)) w.queues = activeQueues.map((q) => String((q as { name?: unknown }).name ?? q));
    const pool = stats?.pool as Record<string, unknown> | undefined;
    if (pool) {
      w.pool = {
        implementation: String(pool.implementation ?? ''),
        maxConcurrency: typeof pool['max-concurrency'] === 'number' ? (pool['max-concurrency'] as number) : null,
        processes: Array.isArray(pool.processes) ? pool.processes.length : 0,
      };
    }
    this.options.onChange?.(w);
  }

  /** Marks missed heartbeats offline and forgets workers offline for too long. Call every second or so. */
  sweep(): void {
    const now = this.now();
    for (const w of this.workers.values()) {
      if (w.online && now > w.lastHeartbeat + w.freq * 2000) {
        w.online = false;
        this.options.onChange?.(w);
      }
      if (!w.online && now - w.lastHeartbeat > this.options.purgeOfflineAfterMs) {
        this.workers.delete(w.hostname);
        this.options.onPurge?.(w.hostname);
      }
    }
  }

  list(): WorkerView[] {
    return [...this.workers.values()].sort((a, b) => a.hostname.localeCompare(b.hostname));
  }

  get(hostname: string): WorkerView | undefined {
    return this.workers.get(hostname);
  }

  onlineHostnames(): string[] {
    return this.list()
      .filter((w) => w.online)
      .map((w) => w.hostname);
  }

  private ensure(hostname: string, now: number): WorkerView {
    let w = this.workers.get(hostname);
    if (!w) {
      w = {
        hostname,
        online: true,
        lastHeartbeat: now,
        freq: 2,
        active: 0,
        processed: 0,
        succeeded: 0,
        failed: 0,
        loadavg: [],
        software: '',
        pid: null,
        queues: [],
        pool: null,
      };
      this.workers.set(hostname, w);
    }
    return w;
  }
}

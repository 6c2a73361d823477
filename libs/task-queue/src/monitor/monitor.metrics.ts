import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CeleryEvent } from './celery-event';
import { QueueStats } from './queue-stats.reader';
import { WorkerView } from './worker.tracker';

/**
 * prom-client, loaded when the first MonitorMetrics is built: every app imports the package's index,
 * and a worker that exports no metrics should not carry prom-client and the @opentelemetry/api it
 * loads (~80 modules, ~2 MB RSS measured on an idle worker).
 */
let promClient: typeof import('prom-client') | null = null;
const loadPromClient = (): typeof import('prom-client') =>
  (promClient ??= require('prom-client') as typeof import('prom-client'));

/** Task buckets: 5 ms to one hour (prom-client's default stops at 10 s, too short for tasks). */
export const TASK_SECONDS_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];

const TASK_STATES = ['sent', 'received', 'started', 'succeeded', 'failed', 'rejected', 'revoked', 'retried'] as const;

/**
 * Prometheus metrics from Celery events, named as celery-exporter names them
 * (`celery_task_<state>_total{name,hostname}`, `celery_worker_up{hostname}`, …) so its dashboards
 * and alerts work unchanged. Series of a purged worker are removed (`dropWorker`).
 */
export class MonitorMetrics {
  readonly registry: Registry;
  private readonly taskCounters = new Map<string, Counter<'name' | 'hostname'>>();
  private readonly runtime: Histogram<'name' | 'hostname'>;
  private readonly queueWait: Histogram<'name' | 'hostname'>;
  private readonly workerUp: Gauge<'hostname'>;
  private readonly workerActive: Gauge<'hostname'>;
  private readonly queueLength: Gauge<'queue_name'>;
  private readonly queueDelayed: Gauge<'queue_name'>;
  private readonly queueUnacked: Gauge<'queue_name'>;
  private readonly queueDead: Gauge<'queue_name'>;
  private readonly queueConsumers: Gauge<'queue_name'>;
  /** task id → received time (s) and name, until it starts; bounded. */
  private readonly waiting = new Map<string, { at: number; name: string }>();
  private readonly names = new Map<string, string>();
  private readonly knownQueues = new Set<string>();
  /** hostname → task names it has series for, so that purging a worker removes exactly those. */
  private readonly series = new Map<string, Set<string>>();

  constructor() {
    const { Counter, Gauge, Histogram, Registry } = loadPromClient();
    this.registry = new Registry();
    const r = [this.registry];
    for (const s of TASK_STATES) {
      this.taskCounters.set(
        `task-${s}`,
        new Counter({
          name: `celery_task_${s}_total`,
          help: `Task-${s} events seen, by task name and worker.`,
          labelNames: ['name', 'hostname'],
          registers: r,
        }),
      );
    }
    this.runtime = new Histogram({
      name: 'celery_task_runtime_seconds',
      help: 'Seconds a task ran (task-succeeded runtime).',
      labelNames: ['name', 'hostname'],
      buckets: TASK_SECONDS_BUCKETS,
      registers: r,
    });
    this.queueWait = new Histogram({
      name: 'celery_task_queue_wait_seconds',
      help: 'Seconds from task-received (or task-sent) to task-started.',
      labelNames: ['name', 'hostname'],
      buckets: TASK_SECONDS_BUCKETS,
      registers: r,
    });
    this.workerUp = new Gauge({
      name: 'celery_worker_up',
      help: '1 while the worker sends heartbeats, 0 once it is offline (the series goes when the worker is purged).',
      labelNames: ['hostname'],
      registers: r,
    });
    this.workerActive = new Gauge({
      name: 'celery_worker_tasks_active',
      help: 'Tasks the worker is running (from its heartbeat).',
      labelNames: ['hostname'],
      registers: r,
    });
    this.queueLength = new Gauge({
      name: 'celery_queue_length',
      help: 'Messages waiting in the queue.',
      labelNames: ['queue_name'],
      registers: r,
    });
    this.queueDelayed = new Gauge({
      name: 'celery_queue_delayed',
      help: 'Messages held until a later time (countdown, eta, retries).',
      labelNames: ['queue_name'],
      registers: r,
    });
    this.queueUnacked = new Gauge({
      name: 'celery_queue_unacked',
      help: 'Messages taken by a worker, not yet acknowledged (Redis only).',
      labelNames: ['queue_name'],
      registers: r,
    });
    this.queueDead = new Gauge({
      name: 'celery_queue_dead_letters',
      help: 'Messages moved to the dead-letter queue.',
      labelNames: ['queue_name'],
      registers: r,
    });
    this.queueConsumers = new Gauge({
      name: 'celery_queue_consumers',
      help: 'Consumers of the queue (RabbitMQ: as the broker counts them; Redis: workers whose active_queues list it).',
      labelNames: ['queue_name'],
      registers: r,
    });
  }

  onTaskEvent(e: CeleryEvent): void {
    const id = String(e.uuid ?? '');
    if (typeof e.name === 'string') this.remember(id, e.name);
    const name = this.names.get(id) ?? 'unknown';
    this.taskCounters.get(e.type)?.inc({ name, hostname: e.hostname });
    let names = this.series.get(e.hostname);
    if (!names) this.series.set(e.hostname, (names = new Set()));
    names.add(name);
    if (e.type === 'task-received' || e.type === 'task-sent') {
      if (!this.waiting.has(id) || e.type === 'task-received') this.waiting.set(id, { at: e.timestamp, name });
      if (this.waiting.size > 100_000) this.waiting.delete(this.waiting.keys().next().value as string);
    } else if (e.type === 'task-started') {
      const w = this.waiting.get(id);
      if (w) this.queueWait.observe({ name, hostname: e.hostname }, Math.max(0, e.timestamp - w.at));
      this.waiting.delete(id);
    } else if (e.type === 'task-succeeded' && typeof e.runtime === 'number') {
      this.runtime.observe({ name, hostname: e.hostname }, e.runtime);
    }
    if (
      e.type === 'task-succeeded' ||
      e.type === 'task-failed' ||
      e.type === 'task-revoked' ||
      e.type === 'task-rejected'
    ) {
      this.waiting.delete(id);
      this.names.delete(id);
    }
  }

  onWorker(w: WorkerView): void {
    this.workerUp.set({ hostname: w.hostname }, w.online ? 1 : 0);
    this.workerActive.set({ hostname: w.hostname }, w.online ? w.active : 0);
  }

  /** Removes every series of a worker that went away (Flower#1492). */
  dropWorker(hostname: string): void {
    this.workerUp.remove({ hostname });
    this.workerActive.remove({ hostname });
    for (const m of [...this.taskCounters.values(), this.runtime, this.queueWait]) {
      for (const name of this.series.get(hostname) ?? []) m.remove({ name, hostname });
    }
    this.series.delete(hostname);
  }

  onQueues(stats: QueueStats[]): void {
    const now = new Set(stats.map((s) => s.name));
    for (const q of this.knownQueues) {
      if (now.has(q)) continue;
      for (const g of [this.queueLength, this.queueDelayed, this.queueUnacked, this.queueDead, this.queueConsumers])
        g.remove({ queue_name: q });
      this.knownQueues.delete(q);
    }
    for (const s of stats) {
      this.knownQueues.add(s.name);
      const l = { queue_name: s.name };
      this.queueLength.set(l, s.ready);
      this.queueDelayed.set(l, s.delayed);
      if (s.unacked !== null) this.queueUnacked.set(l, s.unacked);
      this.queueDead.set(l, s.deadLetters);
      this.queueConsumers.set(l, s.brokerConsumers ?? s.consumers.length);
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private remember(id: string, name: string): void {
    this.names.set(id, name);
    if (this.names.size > 100_000) this.names.delete(this.names.keys().next().value as string);
  }
}

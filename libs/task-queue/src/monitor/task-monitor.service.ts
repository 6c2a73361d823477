import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { Subject } from 'rxjs';
import { Broker } from '../brokers/broker.interface';
import { schemeOf } from '../transports/url-scheme';
import { parseRedisUrl } from '../transports/redis/redis-url';
import { loadIoredis } from '../peers/ioredis.loader';
import { ResultBackend } from '../backends/result-backend.interface';
import { TaskControl } from '../control/task-control';
import { READY_STATES } from '../states';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { CeleryEvent, isTaskEvent } from './celery-event';
import { EventReceiver } from './event.receiver';
import { HistoryStore } from './history.store';
import { MemoryHistoryStore } from './memory-history.store';
import { MonitorMetrics } from './monitor.metrics';
import { ResolvedMonitorOptions } from './monitor.options';
import { QueueStats, QueueStatsReader } from './queue-stats.reader';
import { RedisHistoryStore } from './redis-history.store';
import { RedisDeadLetterEditor } from './redis-dead-letter.editor';
import { TaskFilter, TaskRecord } from './task-record';
import { WorkerTracker, WorkerView } from './worker.tracker';

/** What changed, pushed to live views (server-sent events). */
export type MonitorUpdate =
  | { kind: 'task'; id: string; type: string; state: string | null; name: string | null }
  | { kind: 'worker'; hostname: string; online: boolean }
  | { kind: 'queues' }
  | { kind: 'event'; event: CeleryEvent };

/**
 * The read side of monitoring: receives Celery events, tracks workers, writes the task history,
 * reads queue lengths and keeps the Prometheus metrics. One per dashboard process.
 */
export class TaskMonitor {
  private readonly logger = new Logger('TaskQueueMonitor');
  readonly updates = new Subject<MonitorUpdate>();
  readonly metrics = new MonitorMetrics();
  readonly tracker: WorkerTracker;
  readonly history: HistoryStore;
  private readonly receiver: EventReceiver;
  private readonly queueReader: QueueStatsReader;
  private readonly deadLetters: RedisDeadLetterEditor | null;
  private readonly redisConns: Redis[] = [];
  private timers: NodeJS.Timeout[] = [];
  private lastQueues: QueueStats[] = [];
  private readonly recent: number[] = [];
  private writes: Promise<unknown> = Promise.resolve();
  private controlChain: Promise<unknown> = Promise.resolve();
  private inspecting = false;

  constructor(
    private readonly broker: Broker,
    private readonly backend: ResultBackend,
    private readonly control: TaskControl,
    private readonly config: ResolvedTaskQueueOptions,
    private readonly options: ResolvedMonitorOptions,
  ) {
    this.tracker = new WorkerTracker({
      purgeOfflineAfterMs: options.purgeOfflineAfterSeconds * 1000,
      onPurge: (h) => this.metrics.dropWorker(h),
      onChange: (w) => {
        this.metrics.onWorker(w);
        this.updates.next({ kind: 'worker', hostname: w.hostname, online: w.online });
      },
    });
    const historyUrl =
      options.historyUrl || [config.resultBackend, config.brokerUrl].find((u) => /^rediss?$/.test(schemeOf(u))) || '';
    const bound = { maxTasks: options.maxTasks, ttlSeconds: options.taskTtlSeconds, maxField: options.maxFieldLength };
    this.history = historyUrl
      ? new RedisHistoryStore(this.redisFor(historyUrl), options.historyPrefix, bound)
      : new MemoryHistoryStore(bound);
    const brokerRedis = /^rediss?$/.test(schemeOf(config.brokerUrl)) ? this.redisFor(config.brokerUrl) : null;
    this.queueReader = new QueueStatsReader(broker, brokerRedis, config.redis.keyPrefix);
    this.deadLetters = brokerRedis ? new RedisDeadLetterEditor(brokerRedis, config.redis.keyPrefix) : null;
    this.receiver = new EventReceiver(broker, (e) => this.onEvent(e));
  }

  async start(): Promise<void> {
    await this.receiver.start();
    const every = (s: number, fn: () => unknown) => {
      const t = setInterval(
        () => void Promise.resolve(fn()).catch((err: Error) => this.logger.warn(err.message)),
        s * 1000,
      );
      t.unref();
      this.timers.push(t);
    };
    every(1, () => this.tracker.sweep());
    every(this.options.inspectIntervalSeconds, () => this.inspectWorkers());
    every(this.options.queueIntervalSeconds, () => this.refreshQueues());
    void this.refreshQueues().catch((err: Error) => this.logger.warn(`Could not read queue lengths: ${err.message}`));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.receiver.stop();
    await this.writes;
    await this.history.close();
    for (const c of this.redisConns) c.disconnect();
    this.updates.complete();
  }

  workers(): WorkerView[] {
    return this.tracker.list();
  }

  queues(): QueueStats[] {
    return this.lastQueues;
  }

  /** Reads queue lengths now (and updates the gauges). */
  async refreshQueues(): Promise<QueueStats[]> {
    const known = new Set([this.config.defaultQueue, ...this.options.queues]);
    for (const w of this.tracker.list()) for (const q of w.queues) known.add(q);
    const names = await this.queueReader.discover([...known]);
    this.lastQueues = await this.queueReader.read(names, (q) =>
      this.tracker
        .list()
        .filter((w) => w.online && w.queues.includes(q))
        .map((w) => w.hostname),
    );
    this.metrics.onQueues(this.lastQueues);
    this.updates.next({ kind: 'queues' });
    return this.lastQueues;
  }

  /**
   * Runs remote-control calls of this process one at a time: TaskControl collects replies on one
   * reply queue per process, and two calls listening on it at once would split the replies.
   */
  withControl<T>(fn: (control: TaskControl) => Promise<T>): Promise<T> {
    const next = this.controlChain.then(() => fn(this.control));
    this.controlChain = next.catch(() => undefined);
    return next;
  }

  /** Asks online workers for `stats` and `active_queues` (pool and queues are not in heartbeats). */
  async inspectWorkers(): Promise<void> {
    const online = this.tracker.onlineHostnames();
    if (!online.length || this.inspecting) return;
    this.inspecting = true;
    let stats: Array<Record<string, unknown>>;
    let queues: Array<Record<string, unknown>>;
    try {
      stats = await this.withControl((c) => c.inspect('stats', {}, { destination: online, timeout: 1 }));
      queues = await this.withControl((c) => c.inspect('active_queues', {}, { destination: online, timeout: 1 }));
    } finally {
      this.inspecting = false;
    }
    const byHost = (replies: Array<Record<string, unknown>>) =>
      Object.assign({}, ...replies) as Record<string, unknown>;
    const s = byHost(stats);
    const q = byHost(queues);
    for (const h of online) this.tracker.applyInspect(h, s[h] as Record<string, unknown> | undefined, q[h]);
  }

  tasks(filter: TaskFilter): Promise<TaskRecord[]> {
    return this.history.list(filter);
  }

  /** A task's record, completed from the result backend (result, traceback, children, group) when it has them. */
  async task(id: string): Promise<TaskRecord | null> {
    const [record, meta] = await Promise.all([this.history.get(id), this.backend.get(id).catch(() => null)]);
    if (!record && !meta) return null;
    const r: TaskRecord = record ?? {
      id,
      name: meta?.name ?? null,
      state: 'PENDING',
      args: null,
      kwargs: null,
      result: null,
      exception: null,
      traceback: null,
      retries: 0,
      parentId: null,
      rootId: null,
      groupId: null,
      children: [],
      worker: null,
      queue: null,
      eta: null,
      expires: null,
      runtime: null,
      received: null,
      started: null,
      finished: null,
      timeline: [],
    };
    if (meta) {
      if (READY_STATES.has(meta.status) || !record) r.state = meta.status;
      if (meta.status === 'SUCCESS') r.result = JSON.stringify(meta.result);
      else if (meta.result !== null && meta.result !== undefined && r.exception === null)
        r.exception = JSON.stringify(meta.result);
      r.traceback = r.traceback ?? meta.traceback;
      r.groupId = r.groupId ?? meta.group_id ?? null;
      r.parentId = r.parentId ?? meta.parent_id ?? null;
      r.worker = r.worker ?? meta.worker ?? null;
      r.queue = r.queue ?? meta.queue ?? null;
      for (const c of childIds(meta.children)) if (!r.children.includes(c)) r.children.push(c);
    }
    return r;
  }

  /** Removes a task's dead letter (Redis only; false elsewhere or when it is gone). */
  async removeDeadLetter(queue: string, taskId: string): Promise<boolean> {
    return this.deadLetters ? this.deadLetters.remove(queue, taskId) : false;
  }

  /** Tasks started per second over the last 10 s (all workers). */
  throughput(): number {
    const cutoff = Date.now() - 10_000;
    while (this.recent.length && this.recent[0] < cutoff) this.recent.shift();
    return this.recent.length / 10;
  }

  private onEvent(e: CeleryEvent): void {
    this.tracker.onEvent(e);
    this.updates.next({ kind: 'event', event: e });
    if (!isTaskEvent(e)) return;
    this.metrics.onTaskEvent(e);
    if (e.type === 'task-succeeded' || e.type === 'task-failed') {
      this.recent.push(Date.now());
      if (this.recent.length > 100_000) this.recent.shift();
    }
    // Writes are chained so that one task's events land in order.
    this.writes = this.writes
      .then(() => this.history.record(e))
      .catch((err: Error) =>
        this.logger.warn(`Could not record the ${e.type} event of ${String(e.uuid)}: ${err.message}`),
      );
    void this.writes.then(() =>
      this.updates.next({
        kind: 'task',
        id: String(e.uuid),
        type: e.type,
        state: null,
        name: typeof e.name === 'string' ? e.name : null,
      }),
    );
  }

  private redisFor(url: string): Redis {
    const ep = parseRedisUrl(url, this.config.redis.tls);
    const RedisClient = loadIoredis("The dashboard's Redis history and queue lengths");
    const conn = new RedisClient({
      host: ep.host,
      port: ep.port,
      db: ep.db,
      username: ep.username,
      password: ep.password,
      tls: ep.tls || undefined,
      lazyConnect: false,
      maxRetriesPerRequest: 2,
    });
    conn.on('error', () => undefined);
    this.redisConns.push(conn);
    return conn;
  }
}

/** Task ids in Celery's stored `children` (`[[id, parent], null]` per result, nested for groups). */
function childIds(children: unknown): string[] {
  const out: string[] = [];
  const walk = (x: unknown): void => {
    if (!Array.isArray(x)) return;
    if (x.length === 2 && Array.isArray(x[0]) && typeof x[0][0] === 'string') {
      out.push(x[0][0]);
      walk(x[1]);
      return;
    }
    for (const y of x) walk(y);
  };
  walk(children);
  return out;
}

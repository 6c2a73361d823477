import { hostname as osHostname } from 'node:os';
import { ResolvedTaskQueueOptions } from '../task-queue.options';
import { TaskRegistry } from '../registry/task.registry';
import { toCeleryIso } from '../protocol/iso-time';
import { pyFloat } from '../protocol/control-message';
import { schemeOf } from '../brokers/broker.factory';
import type { JobView, WorkerState } from '../interfaces/worker-state.interface';
import { LamportClock } from '../events/lamport.clock';
import { EventDispatcher } from '../events/event.dispatcher';

type Handler = (args: Record<string, unknown>) => unknown | Promise<unknown>;

/**
 * The remote-control commands a worker answers (celery/worker/control.py's names and reply shapes,
 * celery-wire.md 9.3), so that `celery inspect …`, `celery control …` and `celery status` see it.
 */
export class WorkerControl {
  private readonly started = Date.now();
  readonly handlers: Record<string, Handler>;

  constructor(
    private readonly config: ResolvedTaskQueueOptions,
    private readonly registry: TaskRegistry,
    private readonly consumer: WorkerState,
    private readonly clock: LamportClock,
    private readonly events: EventDispatcher,
    private readonly brokerUrl: string,
    private readonly shutdown: () => void,
  ) {
    const ok = (text: string) => ({ ok: text });
    this.handlers = {
      ping: () => ok('pong'),
      clock: () => ({ clock: this.clock.current }),
      registered: () => this.registry.appNames(),
      stats: () => this.stats(),
      active: () => this.consumer.snapshot().active.map((j) => this.requestInfo(j)),
      reserved: () => this.consumer.snapshot().reserved.map((j) => this.requestInfo(j)),
      scheduled: () =>
        this.consumer.snapshot().scheduled.map((j) => ({ eta: j.request.eta ? toCeleryIso(j.request.eta) : null, priority: j.request.priority, request: this.requestInfo(j) })),
      revoked: () => this.consumer.revoked.ids(),
      active_queues: () => this.config.worker.queues.map((q) => queueInfo(q)),
      query_task: (a) => this.queryTask(ids(a.ids)),
      conf: () => ({ broker_url: maskedUrl(this.config.brokerUrl), result_backend: maskedUrl(this.config.resultBackend), task_default_queue: this.config.defaultQueue, result_expires: this.config.resultExpires, worker_concurrency: this.config.worker.concurrency, worker_prefetch_multiplier: this.config.worker.prefetchMultiplier, task_track_started: this.config.trackStarted }),
      revoke: (a) => this.revoke(ids(a.task_id), a.terminate === true),
      terminate: (a) => this.revoke(ids(a.task_id), true),
      rate_limit: (a) => this.setOption(String(a.task_name), { rateLimit: (a.rate_limit as string | number | null) ?? undefined }, 'new rate limit set successfully'),
      time_limit: (a) => this.setOption(String(a.task_name), { softTimeLimit: numOrUndef(a.soft), timeLimit: numOrUndef(a.hard) }, 'time limits set successfully'),
      heartbeat: () => void this.events.heartbeatOnRequest(),
      enable_events: () => { this.events.taskEvents = true; return ok('task events enabled'); },
      disable_events: () => { this.events.taskEvents = false; return ok('task events disabled'); },
      hello: (a) => (a.from_node === this.config.worker.hostname ? null : { revoked: Object.fromEntries(Object.entries(this.consumer.revoked.toJSON()).map(([k, v]) => [k, pyFloat(v)])), clock: this.clock.current }),
      shutdown: () => { setImmediate(this.shutdown); return ok('shutting down'); },
    };
  }

  /** Runs a command; an unknown one or a failing one answers `{error}`, as Celery's workers do. */
  async handle(method: string, args: Record<string, unknown>): Promise<unknown> {
    const handler = this.handlers[method];
    if (!handler) return { error: `KeyError('${method}')` };
    try {
      return await handler(args);
    } catch (err) {
      return { error: `${(err as Error).name}('${(err as Error).message}')` };
    }
  }

  private revoke(taskIds: string[], terminate: boolean): unknown {
    this.consumer.revoke(taskIds, terminate);
    const list = taskIds.join(', ');
    return { ok: terminate ? `terminate: tasks ${list} flagged as revoked` : `tasks ${list} flagged as revoked` };
  }

  private setOption(taskName: string, patch: Record<string, unknown>, message: string): unknown {
    if (!this.registry.find(taskName)) return { error: `unknown task ${taskName}` };
    this.consumer.setTaskOptions(taskName, patch);
    return { ok: message };
  }

  private queryTask(taskIds: string[]): Record<string, [string, unknown]> {
    const { active, reserved, scheduled } = this.consumer.snapshot();
    const out: Record<string, [string, unknown]> = {};
    for (const [state, jobs] of [['active', active], ['reserved', reserved], ['scheduled', scheduled]] as const) {
      for (const j of jobs) if (taskIds.includes(j.request.id)) out[j.request.id] = [state, this.requestInfo(j)];
    }
    return out;
  }

  private stats(): unknown {
    const usage = process.resourceUsage();
    return {
      total: this.consumer.processedByTask(),
      pid: process.pid,
      clock: String(this.clock.current),
      uptime: Math.floor((Date.now() - this.started) / 1000),
      pool: {
        'max-concurrency': this.config.worker.concurrency,
        processes: [process.pid],
        'max-tasks-per-child': null,
        'put-guarded-by-semaphore': false,
        timeouts: [],
        implementation: 'nest-celery:async',
      },
      broker: brokerInfo(this.brokerUrl),
      prefetch_count: this.config.worker.concurrency * this.config.worker.prefetchMultiplier,
      rusage: { utime: usage.userCPUTime / 1e6, stime: usage.systemCPUTime / 1e6, maxrss: usage.maxRSS, minflt: usage.minorPageFault, majflt: usage.majorPageFault, nvcsw: usage.voluntaryContextSwitches, nivcsw: usage.involuntaryContextSwitches },
    };
  }

  private requestInfo(j: JobView): Record<string, unknown> {
    const r = j.request;
    return {
      id: r.id,
      name: r.task,
      args: r.args,
      kwargs: r.kwargs,
      type: r.task,
      hostname: this.config.worker.hostname,
      time_start: j.startedAt,
      acknowledged: false,
      delivery_info: { exchange: '', routing_key: j.routingKey, priority: r.priority, redelivered: null },
      worker_pid: j.startedAt === null ? null : process.pid,
    };
  }
}

function ids(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  return v === undefined || v === null ? [] : [String(v)];
}

function numOrUndef(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function maskedUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:**@');
}

function queueInfo(name: string): Record<string, unknown> {
  return {
    name,
    exchange: { name, type: 'direct', arguments: null, durable: true, passive: false, auto_delete: false, delivery_mode: null, no_declare: false },
    routing_key: name,
    queue_arguments: null, binding_arguments: null, consumer_arguments: null,
    durable: true, exclusive: false, auto_delete: false, no_ack: false, alias: null, bindings: [], no_declare: null,
    expires: null, message_ttl: null, max_length: null, max_length_bytes: null, max_priority: null,
  };
}

function brokerInfo(url: string): Record<string, unknown> {
  let u: URL | null = null;
  try { u = new URL(url); } catch { /* memory:// and odd URLs */ }
  return {
    hostname: u?.hostname || osHostname(),
    userid: u?.username || null,
    virtual_host: u ? decodeURIComponent(u.pathname.replace(/^\//, '')) || '/' : '/',
    port: u?.port ? Number(u.port) : null,
    insist: false,
    ssl: /^(rediss|amqps)$/.test(schemeOf(url)),
    transport: schemeOf(url),
    connect_timeout: 4,
    transport_options: {},
    login_method: null,
    uri_prefix: null,
    heartbeat: 120.0,
    failover_strategy: 'round-robin',
    alternates: [],
  };
}

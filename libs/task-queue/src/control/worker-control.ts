import { hostname as osHostname } from 'node:os';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { TaskRegistry } from '../registry/task.registry';
import { parseRateLimit } from '../options/rate-limit';
import {
  addConsumerReply,
  autoscaleNotEnabledReply,
  autoscaleReply,
  brokerInfoReply,
  cancelConsumerReply,
  invalidArgumentReply,
  invalidRateLimitReply,
  invalidTimeLimitReply,
  poolResizeWithAutoscaleReply,
  poolResizedReply,
  commandFailedReply,
  confReply,
  errorReply,
  helloReply,
  okReply,
  queueInfoReply,
  requestInfoReply,
  revokedReply,
  scheduledReply,
  statsReply,
  unknownCommandReply,
} from '../protocol/control-reply';
import { maskUrl } from '../transports/url-mask';
import { schemeOf } from '../transports/url-scheme';
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
    const ok = okReply;
    this.handlers = {
      ping: () => ok('pong'),
      clock: () => ({ clock: this.clock.current }),
      registered: () => this.registry.appNames(),
      stats: () => this.stats(),
      active: () => this.consumer.snapshot().active.map((j) => this.requestInfo(j)),
      reserved: () => this.consumer.snapshot().reserved.map((j) => this.requestInfo(j)),
      scheduled: () => this.consumer.snapshot().scheduled.map((j) => scheduledReply(j.request, this.requestInfo(j))),
      revoked: () => this.consumer.revoked.ids(),
      active_queues: () => this.consumer.queues().map((q) => queueInfoReply(q)),
      query_task: (a) => this.queryTask(ids(a.ids)),
      conf: () =>
        confReply({
          brokerUrl: maskUrl(this.config.brokerUrl, '**'),
          resultBackend: maskUrl(this.config.resultBackend, '**'),
          defaultQueue: this.config.defaultQueue,
          resultExpires: this.config.resultExpires,
          concurrency: this.config.worker.concurrency,
          prefetchMultiplier: this.config.worker.prefetchMultiplier,
          trackStarted: this.config.trackStarted,
        }),
      revoke: (a) => this.revoke(ids(a.task_id), a.terminate === true),
      terminate: (a) => this.revoke(ids(a.task_id), true),
      rate_limit: (a) => this.rateLimit(String(a.task_name), a.rate_limit),
      time_limit: (a) => this.timeLimit(String(a.task_name), a.soft, a.hard),
      add_consumer: async (a) => {
        const queue = queueArg(a.queue);
        if (!queue) return invalidArgumentReply('add_consumer', `queue must be a queue name, got ${show(a.queue)}`);
        await this.consumer.addQueue(queue);
        return addConsumerReply(queue);
      },
      cancel_consumer: async (a) => {
        const queue = queueArg(a.queue);
        if (!queue) return invalidArgumentReply('cancel_consumer', `queue must be a queue name, got ${show(a.queue)}`);
        await this.consumer.cancelQueue(queue);
        return cancelConsumerReply(queue);
      },
      pool_grow: (a) => this.resizePool('pool_grow', a.n),
      pool_shrink: (a) => this.resizePool('pool_shrink', a.n),
      autoscale: (a) => this.autoscale(a.max, a.min),
      heartbeat: () => void this.events.heartbeatOnRequest(),
      enable_events: () => {
        this.events.taskEvents = true;
        return ok('task events enabled');
      },
      disable_events: () => {
        this.events.taskEvents = false;
        return ok('task events disabled');
      },
      hello: (a) =>
        a.from_node === this.config.worker.hostname
          ? null
          : helloReply(this.consumer.revoked.toJSON(), this.clock.current),
      shutdown: () => {
        setImmediate(this.shutdown);
        return ok('shutting down');
      },
    };
  }

  /** Runs a command; an unknown one or a failing one answers `{error}`, as Celery's workers do. */
  async handle(method: string, args: Record<string, unknown>): Promise<unknown> {
    const handler = this.handlers[method];
    if (!handler) return unknownCommandReply(method);
    try {
      return await handler(args);
    } catch (err) {
      return commandFailedReply(err as Error);
    }
  }

  private revoke(taskIds: string[], terminate: boolean): unknown {
    this.consumer.revoke(taskIds, terminate);
    return revokedReply(taskIds, terminate);
  }

  private setOption(taskName: string, patch: Record<string, unknown>, message: string): unknown {
    if (!this.registry.find(taskName)) return errorReply(`unknown task ${taskName}`);
    this.consumer.setTaskOptions(taskName, patch);
    return okReply(message);
  }

  /** Celery's rule: an empty or zero rate turns the limit off; anything else must parse, or nothing changes. */
  private rateLimit(taskName: string, rate: unknown): unknown {
    if (rate === null || rate === undefined || rate === '' || rate === 0)
      return this.setOption(taskName, { rateLimit: undefined }, 'rate limit disabled successfully');
    if (typeof rate !== 'string' && typeof rate !== 'number')
      return invalidRateLimitReply(rate, "give a string such as '10/s', '100/m' or '1000/h', or a number per second");
    try {
      parseRateLimit(rate);
    } catch (err) {
      return invalidRateLimitReply(rate, (err as Error).message);
    }
    return this.setOption(taskName, { rateLimit: rate }, 'new rate limit set successfully');
  }

  /** Both limits are set, as Celery does (null or 0: none); a bad one changes neither. */
  private timeLimit(taskName: string, soft: unknown, hard: unknown): unknown {
    const limits: Record<'soft' | 'hard', number | undefined> = { soft: undefined, hard: undefined };
    for (const [name, value] of [
      ['soft', soft],
      ['hard', hard],
    ] as const) {
      if (value === null || value === undefined) continue;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return invalidTimeLimitReply(name, value);
      limits[name] = value === 0 ? undefined : value;
    }
    return this.setOption(
      taskName,
      { softTimeLimit: limits.soft, timeLimit: limits.hard },
      'time limits set successfully',
    );
  }

  /** `pool_grow` / `pool_shrink` by `n` (default 1, as Celery); the pool keeps at least one slot. */
  private async resizePool(command: 'pool_grow' | 'pool_shrink', nArg: unknown): Promise<unknown> {
    if (this.consumer.autoscaler) return poolResizeWithAutoscaleReply(command);
    const n = nArg === undefined || nArg === null ? 1 : nArg;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
      return invalidArgumentReply(command, `n must be a whole number >= 1, got ${show(nArg)}`);
    const size = this.consumer.pool().size;
    const next = command === 'pool_grow' ? size + n : size - n;
    if (next < 1)
      return invalidArgumentReply(command, `the pool has ${size} slot(s); it cannot shrink by ${n} (at least 1 stays)`);
    await this.consumer.resizePool(next);
    return poolResizedReply(command);
  }

  /** `autoscale` (max, min): new bounds for the autoscaler; an error when `worker.autoscale` is off. */
  private autoscale(max: unknown, min: unknown): unknown {
    const scaler = this.consumer.autoscaler;
    if (!scaler) return autoscaleNotEnabledReply();
    for (const [name, v] of [
      ['max', max],
      ['min', min],
    ] as const)
      if (v !== null && v !== undefined && (typeof v !== 'number' || !Number.isInteger(v)))
        return invalidArgumentReply('autoscale', `${name} must be a whole number, got ${show(v)}`);
    try {
      const now = scaler.update((max as number | undefined) ?? null, (min as number | undefined) ?? null);
      return autoscaleReply(now.max, now.min);
    } catch (err) {
      return invalidArgumentReply('autoscale', (err as Error).message);
    }
  }

  private queryTask(taskIds: string[]): Record<string, [string, unknown]> {
    const { active, reserved, scheduled } = this.consumer.snapshot();
    const out: Record<string, [string, unknown]> = {};
    for (const [state, jobs] of [
      ['active', active],
      ['reserved', reserved],
      ['scheduled', scheduled],
    ] as const) {
      for (const j of jobs) if (taskIds.includes(j.request.id)) out[j.request.id] = [state, this.requestInfo(j)];
    }
    return out;
  }

  private stats(): unknown {
    const pool = this.consumer.pool();
    return statsReply({
      total: this.consumer.processedByTask(),
      pid: process.pid,
      clock: this.clock.current,
      uptimeSeconds: Math.floor((Date.now() - this.started) / 1000),
      concurrency: pool.size,
      prefetchCount: pool.prefetch,
      autoscaler: this.consumer.autoscaler?.info(),
      broker: brokerInfoReply(this.brokerUrl, schemeOf(this.brokerUrl), osHostname()),
      usage: process.resourceUsage(),
    });
  }

  private requestInfo(j: JobView): Record<string, unknown> {
    return requestInfoReply(j.request, this.config.worker.hostname, j.routingKey, j.startedAt, process.pid);
  }
}

function ids(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  return v === undefined || v === null ? [] : [String(v)];
}

function queueArg(v: unknown): string | null {
  return typeof v === 'string' && v.trim() ? v.trim() : null;
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : (JSON.stringify(v) ?? String(v));
}

import { hostname as osHostname } from 'node:os';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { TaskRegistry } from '../registry/task.registry';
import {
  brokerInfoReply,
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
      active_queues: () => this.config.worker.queues.map((q) => queueInfoReply(q)),
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
      rate_limit: (a) =>
        this.setOption(
          String(a.task_name),
          { rateLimit: (a.rate_limit as string | number | null) ?? undefined },
          'new rate limit set successfully',
        ),
      time_limit: (a) =>
        this.setOption(
          String(a.task_name),
          { softTimeLimit: numOrUndef(a.soft), timeLimit: numOrUndef(a.hard) },
          'time limits set successfully',
        ),
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
    return statsReply({
      total: this.consumer.processedByTask(),
      pid: process.pid,
      clock: this.clock.current,
      uptimeSeconds: Math.floor((Date.now() - this.started) / 1000),
      concurrency: this.config.worker.concurrency,
      prefetchCount: this.config.worker.concurrency * this.config.worker.prefetchMultiplier,
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

function numOrUndef(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { TaskQueueHealthIndicator } from 'nestjs-celery/health';

/** What `GET /health` checks beyond broker and backend. */
export interface ApiHealthOptions {
  /** Queue of the workers and backlog checks (undefined: the module's default queue). */
  queue?: string;
  /** Workers that must consume the queue; 0 leaves the check out. */
  minWorkers: number;
  /** Most messages that may wait in the queue. */
  maxBacklog: number;
}

export const API_HEALTH_OPTIONS = Symbol('API_HEALTH_OPTIONS');

/** HEALTH_QUEUE, HEALTH_MIN_WORKERS (default 1), HEALTH_MAX_BACKLOG (default 10000). */
export function apiHealthFromEnv(env: NodeJS.ProcessEnv = process.env): ApiHealthOptions {
  return {
    queue: env.HEALTH_QUEUE || undefined,
    minWorkers: Number(env.HEALTH_MIN_WORKERS ?? 1),
    maxBacklog: Number(env.HEALTH_MAX_BACKLOG ?? 10_000),
  };
}

/** `GET /health` (terminus): 200 when every check is up, else 503 naming the failing check. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly taskQueue: TaskQueueHealthIndicator,
    @Inject(API_HEALTH_OPTIONS) private readonly options: ApiHealthOptions,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    const { queue, minWorkers, maxBacklog } = this.options;
    return this.health.check([
      () => this.taskQueue.isBrokerUp('broker'),
      () => this.taskQueue.isBackendUp('backend'),
      ...(minWorkers > 0 ? [() => this.taskQueue.hasWorkers('workers', { queue, min: minWorkers })] : []),
      () => this.taskQueue.isBacklogUnder('backlog', { queue, max: maxBacklog }),
    ]);
  }
}

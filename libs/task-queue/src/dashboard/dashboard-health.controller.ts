import { Controller, Get, HttpCode, HttpStatus, Inject, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { TaskQueueProbe } from '../health/task-queue.probe';
import { TaskMonitor } from '../monitor/task-monitor.service';

/**
 * `GET <path>/healthz` for probes (k8s, compose, load balancers): plain JSON without terminus. Outside
 * DashboardAuthGuard on purpose: a probe has no credentials, and the answer holds nothing secret (no URL,
 * no worker names: only up/down, transport names and a count). 200 when broker and backend answer,
 * else 503. Workers online (from their heartbeats) are reported; they fail the probe only with
 * `?minWorkers=N`, so a dashboard is not restarted because the workers are away.
 */
@Controller()
export class DashboardHealthController {
  constructor(
    @Inject(TaskQueueProbe) private readonly probe: TaskQueueProbe,
    private readonly monitor: TaskMonitor,
  ) {}

  @Get('healthz')
  @HttpCode(HttpStatus.OK)
  async healthz(
    @Query('minWorkers') minWorkers: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Record<string, unknown>> {
    const [broker, backend] = await Promise.all([this.probe.checkBroker(), this.probe.checkBackend()]);
    const online = this.monitor.workers().filter((w) => w.online).length;
    const min = Number(minWorkers ?? 0) || 0;
    const workers = { status: online >= min ? 'up' : 'down', online, ...(min ? { min } : {}) };
    const ok = broker.up && backend.up && workers.status === 'up';
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    res.setHeader('Cache-Control', 'no-store');
    return {
      status: ok ? 'ok' : 'error',
      broker: { status: broker.up ? 'up' : 'down', ...broker.data },
      backend: { status: backend.up ? 'up' : 'down', ...backend.data },
      workers,
    };
  }
}

import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { OnTaskEvent } from '../decorators/on-task-event.decorator';
import { TaskEvent } from '../events/task.events';
import { MonitorMetrics } from './monitor.metrics';

/** Options of `TaskQueueWorkerMetricsModule.register()`. */
export interface WorkerMetricsOptions {
  /** Port of the worker's own `/metrics` server; null: no server (read `WorkerMetrics.registry` yourself). @defaultValue 9808 (celery-exporter's) */
  port?: number | null;
  /** @defaultValue '127.0.0.1' */
  host?: string;
}

export const WORKER_METRICS_OPTIONS = Symbol('TASKQ_WORKER_METRICS_OPTIONS');

/**
 * The same task metrics as the dashboard's (`celery_task_*_total`, runtime and queue-wait
 * histograms), counted inside one worker from its in-process task events: no events on the broker
 * needed. Serves them at `http://host:port/metrics` unless `port` is null.
 */
@Injectable()
export class WorkerMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TaskQueueMetrics');
  readonly metrics = new MonitorMetrics();
  private server: Server | null = null;

  constructor(@Inject(WORKER_METRICS_OPTIONS) private readonly options: WorkerMetricsOptions) {}

  get registry() {
    return this.metrics.registry;
  }

  /** Where `/metrics` is served, once listening. */
  get url(): string | null {
    const a = this.server?.address();
    return a && typeof a === 'object' ? `http://${this.options.host ?? '127.0.0.1'}:${a.port}/metrics` : null;
  }

  @OnTaskEvent('received', 'started', 'succeeded', 'failed', 'retried', 'revoked', 'rejected')
  onTaskEvent(e: TaskEvent): void {
    const r = e.request;
    this.metrics.onTaskEvent({
      type: `task-${e.type}`,
      hostname: r.hostname,
      timestamp: Date.now() / 1000,
      uuid: r.id,
      name: r.task,
      runtime: e.runtime,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const port = this.options.port === undefined ? 9808 : this.options.port;
    if (port === null) return;
    this.server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.metrics.text().then(
        (text) => res.writeHead(200, { 'Content-Type': this.metrics.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.logger.log(`Task metrics at ${this.url}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

import { DynamicModule, Module } from '@nestjs/common';
import { WORKER_METRICS_OPTIONS, WorkerMetrics, WorkerMetricsOptions } from './worker-metrics.listener';

/**
 * Prometheus metrics in each worker process (optional): import it in the worker's module.
 *
 * @example TaskQueueWorkerMetricsModule.register({ port: 9808 })
 */
@Module({})
export class TaskQueueWorkerMetricsModule {
  static register(options: WorkerMetricsOptions = {}): DynamicModule {
    return {
      module: TaskQueueWorkerMetricsModule,
      providers: [{ provide: WORKER_METRICS_OPTIONS, useValue: options }, WorkerMetrics],
      exports: [WorkerMetrics],
    };
  }
}

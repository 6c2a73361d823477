import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Broker } from '../brokers/broker.interface';
import { ResultBackend } from '../backends/result-backend.interface';
import { TaskControl } from '../control/task-control';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { TASK_QUEUE_BROKER, TASK_QUEUE_CONFIG, TASK_QUEUE_RESULT_BACKEND } from '../task-queue.constants';
import { TaskQueueHealthIndicator } from './task-queue.health-indicator';
import { TaskQueueProbe } from './task-queue.probe';

/**
 * `TaskQueueHealthIndicator` for a terminus health endpoint. Needs a global TaskQueueModule; re-exports
 * TerminusModule, so `HealthCheckService` is injectable where this module is imported.
 *
 * @example imports: [TaskQueueModule.forRoot({ ..., isGlobal: true }), TaskQueueHealthModule]
 */
@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: TaskQueueProbe,
      useFactory: (broker: Broker, backend: ResultBackend, control: TaskControl, config: ResolvedTaskQueueOptions) =>
        new TaskQueueProbe(broker, backend, control, config.defaultQueue),
      inject: [TASK_QUEUE_BROKER, TASK_QUEUE_RESULT_BACKEND, TaskControl, TASK_QUEUE_CONFIG],
    },
    TaskQueueHealthIndicator,
  ],
  exports: [TaskQueueHealthIndicator, TaskQueueProbe, TerminusModule],
})
export class TaskQueueHealthModule {}

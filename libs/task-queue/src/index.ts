// The public API. Apps import only from here.
export { TaskQueueModule } from './task-queue.module';
export { TASK_QUEUE_OPTIONS_TYPE, TASK_QUEUE_ASYNC_OPTIONS_TYPE } from './task-queue.module-definition';
export type { TaskQueueModuleOptions } from './options/task-queue-options';
export type { AutoscaleOptions, WorkerOptions } from './options/worker-options';
export type { RedisTransportOptions } from './options/redis-options';
export type { AmqpTransportOptions } from './options/amqp-options';
export type { ResolvedTaskQueueOptions } from './options/resolved-options';
export { TASK_QUEUE_BROKER, TASK_QUEUE_RESULT_BACKEND, TASK_QUEUE_CONFIG } from './task-queue.constants';
export { SharedTask } from './decorators/shared-task.decorator';
export type { SharedTaskOptions } from './options/shared-task-options';
export { TaskClient } from './client/task.client';
export type { BoundTask, ApplyOptions, ManyCall, SentTask } from './client/task.client';
export { AsyncResult } from './result/async-result';
export type { GetOptions } from './result/async-result';
export type { ResultHandle } from './result/result-handle';
export { taskRef, defineTask } from './discovery/task-ref';
export type { TaskRef, TaskArgs, TaskResult } from './discovery/task-ref';
export type { SendOptions } from './protocol/task-message';
export type { ResultMeta } from './protocol/result-meta';
export { TaskQueueServer, TASK_QUEUE_TRANSPORT } from './worker/task-queue.server';
export { TaskRegistry } from './registry/task.registry';
export type { Broker, Delivery, DeadLetter } from './brokers/broker.interface';
export type { ResultBackend } from './backends/result-backend.interface';
export { TaskState, READY_STATES, EXCEPTION_STATES, PROPAGATE_STATES } from './states';
export * from './errors';
export { BrokerUnavailableFilter } from './reliability/broker-unavailable.filter';
export { optionsFromEnv } from './task-queue.env';
export { maskBrokerUrl, parseBrokerUrl, splitBrokerUrls } from './transports/broker-url';
export type { ParsedBrokerUrl, BrokerUrlEntry } from './transports/broker-url';
export { CurrentTask } from './decorators/current-task.decorator';
export { OnTaskEvent } from './decorators/on-task-event.decorator';
export { TaskContext } from './context/task-context';
export type { TaskRequestInfo, RetryOptions } from './context/task-context';
export { TaskContextHost } from './context/task-context.host';
export type { TaskEvent, TaskEventName } from './events/task.events';
export type { TaskExecutionOptions, ErrorClass } from './options/shared-task-options';
export { TaskControl } from './control/task-control';
export type { BroadcastOptions } from './control/task-control';
export { Signature, chain, group, chord } from './canvas/signature';
export type { SignatureOptions, SubtaskType } from './canvas/signature';
export { GroupResult } from './result/group-result';
export type { CanvasResult, ChordOptions } from './canvas/canvas.publisher';
export { Periodic } from './decorators/periodic.decorator';
export { BeatService } from './beat/beat.service';
export type { BeatEntryInfo } from './beat/beat.service';
export type {
  BeatEntry,
  BeatOptions,
  BeatSendOptions,
  ScheduleSpec,
  EverySpec,
  CronSpec,
  MissedRunPolicy,
  PeriodicOptions,
} from './options/beat-options';
export { TaskQueueDashboardModule } from './dashboard/dashboard.module';
export type { TaskQueueDashboardOptions } from './dashboard/dashboard.options';
export { startStandaloneDashboard } from './dashboard/dashboard.standalone';
export type { StandaloneDashboardOptions, RunningDashboard } from './dashboard/dashboard.standalone';
export { PERIODIC_ENTRY_SOURCE } from './dashboard/periodic-entry.source';
export type { PeriodicEntrySource, PeriodicEntryView } from './dashboard/periodic-entry.source';
export { TaskMonitor } from './monitor/task-monitor.service';
export type { MonitorUpdate } from './monitor/task-monitor.service';
export type { TaskMonitorOptions } from './monitor/monitor.options';
export type { TaskRecord, TaskFilter } from './monitor/task-record';
export type { WorkerView } from './monitor/worker.tracker';
export type { QueueStats } from './monitor/queue-stats.reader';
export { TaskQueueWorkerMetricsModule } from './monitor/worker-metrics.module';
export { WorkerMetrics } from './monitor/worker-metrics.listener';
export type { WorkerMetricsOptions } from './monitor/worker-metrics.listener';
export type { WorkerPoolOptions, PoolKind } from './options/pool-options';

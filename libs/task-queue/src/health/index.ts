/**
 * `nestjs-celery/health`: health checks for `@nestjs/terminus` (an optional peer dependency: only this
 * entry point loads it, so apps without terminus import `nestjs-celery` as before).
 */
export { TaskQueueHealthModule } from './task-queue-health.module';
export { TaskQueueHealthIndicator } from './task-queue.health-indicator';
export { TaskQueueProbe } from './task-queue.probe';
export type { ProbeOutcome } from './task-queue.probe';
export type { BacklogCheckOptions, ReachableCheckOptions, WorkersCheckOptions } from './health.options';

import { SetMetadata } from '@nestjs/common';
import { TASK_EVENT_LISTENER_METADATA } from '../task-queue.constants';
import type { TaskEventName } from '../events/task.events';

/**
 * Makes a provider method a listener of task events in the worker, for cross-cutting concerns
 * (metrics, alerts, audit). It gets a TaskEvent; what it throws is logged, never fails the task.
 *
 * @example @OnTaskEvent('failed') alert(event: TaskEvent) { … }
 */
export function OnTaskEvent(...events: TaskEventName[]): MethodDecorator {
  return SetMetadata(TASK_EVENT_LISTENER_METADATA, events);
}

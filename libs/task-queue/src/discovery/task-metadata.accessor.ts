import {
  SHARED_TASK_METADATA,
  TASK_CONTEXT_PARAM_METADATA,
  TASK_EVENT_LISTENER_METADATA,
} from '../task-queue.constants';
import type { TaskEventName } from '../events/task.events';
import { SharedTaskOptions } from '../options/shared-task-options';

/** Reads @SharedTask metadata from a method. Works without DI, so task references can be built statically. */
export function getSharedTaskMetadata(target: unknown): SharedTaskOptions | undefined {
  if (!target || (typeof target !== 'function' && typeof target !== 'object')) return undefined;
  return Reflect.getMetadata(SHARED_TASK_METADATA, target) as SharedTaskOptions | undefined;
}

/** The registered name of a task method: the explicit name, else `<ClassName>.<method>`. */
export function taskNameOf(className: string, methodName: string, meta: SharedTaskOptions): string {
  return meta.name ?? `${className}.${methodName}`;
}

/** Index of the @CurrentTask parameter of a method, or null. */
export function getTaskContextIndex(proto: object, method: string): number | null {
  const index = Reflect.getMetadata(TASK_CONTEXT_PARAM_METADATA, proto, method) as number | undefined;
  return index ?? null;
}

/** Events an @OnTaskEvent method listens to, if it is one. */
export function getTaskEventListener(target: unknown): TaskEventName[] | undefined {
  if (typeof target !== 'function') return undefined;
  return Reflect.getMetadata(TASK_EVENT_LISTENER_METADATA, target) as TaskEventName[] | undefined;
}

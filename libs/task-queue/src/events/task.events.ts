import { Injectable, Logger } from '@nestjs/common';
import type { TaskRequestInfo } from '../context/task-context';

/** Task lifecycle events a worker emits in-process, named as Celery's `task-*` events. */
export type TaskEventName = 'received' | 'started' | 'succeeded' | 'failed' | 'retried' | 'revoked' | 'rejected';

export interface TaskEvent {
  type: TaskEventName;
  request: TaskRequestInfo;
  /** The return value (succeeded). */
  result?: unknown;
  /** The error (failed, retried, rejected). */
  error?: unknown;
  /** Seconds the run took (succeeded, failed). */
  runtime?: number;
  /** Why (revoked: revoked | expired | terminated; rejected: the reason). */
  reason?: string;
}

type Listener = (event: TaskEvent) => unknown;

/**
 * In-process fan-out of task events to @OnTaskEvent listeners. A throwing or rejecting listener is
 * logged and never affects the task.
 */
@Injectable()
export class TaskEvents {
  private readonly logger = new Logger('TaskQueueWorker');
  private readonly listeners = new Map<TaskEventName, Listener[]>();

  on(type: TaskEventName, listener: Listener): void {
    const list = this.listeners.get(type) ?? [];
    list.push(listener);
    this.listeners.set(type, list);
  }

  /** True when someone listens to this type: callers skip building an event nobody reads. */
  wants(type: TaskEventName): boolean {
    return (this.listeners.get(type)?.length ?? 0) > 0;
  }

  off(type: TaskEventName, listener: Listener): void {
    const list = this.listeners.get(type);
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  /** Emits the event `make()` builds, only when someone listens. */
  emitLazy(type: TaskEventName, make: () => TaskEvent): void {
    if (this.wants(type)) this.emit(make());
  }

  emit(event: TaskEvent): void {
    const list = this.listeners.get(event.type);
    if (!list) return;
    for (const listener of list) {
      try {
        const r = listener(event);
        if (r && typeof (r as Promise<unknown>).catch === 'function')
          (r as Promise<unknown>).catch((e: Error) => this.report(event, e));
      } catch (e) {
        this.report(event, e as Error);
      }
    }
  }

  private report(event: TaskEvent, err: Error): void {
    this.logger.error(
      `A task-${event.type} listener failed for ${event.request.task}[${event.request.id}]: ${err.message}`,
    );
  }
}

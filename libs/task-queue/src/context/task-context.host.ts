import { Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { TaskContext } from './task-context';

/**
 * The running task's context for code deeper than the task method (a service it calls):
 * inject TaskContextHost in a constructor and call `current()`. Undefined outside a task.
 *
 * On Node 20 AsyncLocalStorage hooks every promise of the process, which costs the worker about as
 * much as running a small task, so it is switched on only when a provider injects this class
 * (the explorer checks constructors at bootstrap), or by calling `enable()` before the worker starts.
 */
@Injectable()
export class TaskContextHost {
  private storage: AsyncLocalStorage<TaskContext> | null = null;

  /** Switches context tracking on (idempotent). */
  enable(): void {
    this.storage ??= new AsyncLocalStorage<TaskContext>();
  }

  get enabled(): boolean {
    return this.storage !== null;
  }

  current(): TaskContext | undefined {
    return this.storage?.getStore();
  }

  run<T>(ctx: TaskContext, fn: () => T): T {
    return this.storage ? this.storage.run(ctx, fn) : fn();
  }
}

import { Injectable } from '@nestjs/common';
import { DuplicateTaskError, NotRegisteredError } from '../errors';
import { TaskDefinition } from './task-definition';

/** Task name → definition, filled at bootstrap by the explorer (Celery's app.tasks). */
@Injectable()
export class TaskRegistry {
  private readonly tasks = new Map<string, TaskDefinition>();

  register(def: TaskDefinition): void {
    const existing = this.tasks.get(def.name);
    if (existing) throw new DuplicateTaskError(def.name, existing.source, def.source);
    this.tasks.set(def.name, def);
  }

  /** The task, or NotRegisteredError. */
  get(name: string): TaskDefinition {
    const def = this.tasks.get(name);
    if (!def) throw new NotRegisteredError(name);
    return def;
  }

  find(name: string): TaskDefinition | undefined {
    return this.tasks.get(name);
  }

  /** Every registered name, built-ins included. */
  names(): string[] {
    return [...this.tasks.keys()].sort();
  }

  /** The app's task names, without the built-in `celery.*` and `taskq.*` ones (as Celery's `registered` shows). */
  appNames(): string[] {
    return this.names().filter((n) => !n.startsWith('celery.') && !n.startsWith('taskq.'));
  }

  all(): TaskDefinition[] {
    return [...this.tasks.values()];
  }
}

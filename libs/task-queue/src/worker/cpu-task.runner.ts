import { TaskRequest } from '../protocol/task-message';
import { TaskContext } from '../context/task-context';
import { ResolvedTaskOptions } from './task-options';

/**
 * Runs a `cpu: true` task off the event loop (pool/ implements it). The executor knows only this
 * shape, so that worker/ does not import pool/ and pool/ may build on worker/'s helpers.
 */
export interface CpuTaskRunner {
  /** Runs the task; calls `started` when a pool worker takes it (its time limits start then, as in Celery's prefork). */
  run(
    task: string,
    req: TaskRequest,
    ctx: TaskContext,
    options: ResolvedTaskOptions,
    started: () => void,
  ): Promise<unknown>;
}

/** Nest token of the CpuTaskRunner (absent: `cpu` tasks run on the event loop). */
export const CPU_TASK_RUNNER = Symbol('CPU_TASK_RUNNER');

import type { ResultHandle } from './result-handle';
import { AsyncResult, GetOptions } from './async-result';
import { groupTuple } from '../protocol/result-tuple';
import { ResultBackend } from '../backends/result-backend.interface';
import { TaskTimeoutError } from '../errors';
import { TaskState } from '../states';

/** A member of a group: a task's result, or (for a chain member) the result of its last task. */
export type GroupMember = AsyncResult<unknown>;

/**
 * The results of a group (Celery's GroupResult). `join()` waits for every member and returns their
 * results in order; `save()` stores it as `celery-taskset-meta-<id>` so that any process (Python too)
 * can `restore` it by id.
 */
export class GroupResult<T = unknown> implements ResultHandle {
  constructor(
    readonly id: string,
    readonly results: GroupMember[],
    private readonly backend: ResultBackend,
  ) {}

  /** Waits for all members; returns their results in group order. Throws the first failure (propagate) or TaskTimeoutError. */
  async join(options: GetOptions = {}): Promise<T[]> {
    const deadline = options.timeout === undefined ? undefined : Date.now() + options.timeout;
    const out: T[] = [];
    for (const r of this.results) {
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) throw new TaskTimeoutError(r.id, options.timeout!, await r.state());
      out.push((await r.get({ ...options, timeout: left })) as T);
    }
    return out;
  }

  /** How many members finished successfully. */
  async completedCount(): Promise<number> {
    const states = await this.states();
    return states.filter((s) => s === TaskState.SUCCESS).length;
  }

  /** True when every member is in a ready state. */
  async ready(): Promise<boolean> {
    return (await Promise.all(this.results.map((r) => r.ready()))).every(Boolean);
  }

  /** True when every member succeeded. */
  async successful(): Promise<boolean> {
    return (await this.states()).every((s) => s === TaskState.SUCCESS);
  }

  /** True when any member failed. */
  async failed(): Promise<boolean> {
    return (await this.states()).some((s) => s === TaskState.FAILURE);
  }

  /** Stores the group so it can be restored by id (Celery's `GroupResult.save()`). */
  async save(): Promise<void> {
    if (!this.backend.saveGroup) throw new TypeError(`The ${this.backend.name} result backend cannot save groups.`);
    await this.backend.saveGroup(this.id, this.asTuple());
  }

  /** Forgets every member's result and the saved group. */
  async forget(): Promise<void> {
    await Promise.all(this.results.map((r) => r.forget()));
    await this.backend.forgetGroup?.(this.id);
  }

  /** Celery's `as_tuple()`: `[[group_id, null], [[[member_id, null], null], …]]`. */
  asTuple(): unknown[] {
    return groupTuple(
      this.id,
      this.results.map((r) => r.id),
    );
  }

  private states(): Promise<string[]> {
    return Promise.all(this.results.map((r) => r.state()));
  }
}

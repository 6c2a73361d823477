import { SoftTimeLimitExceededError } from '../errors';
import { TaskContext, TaskRequestInfo } from '../context/task-context';
import { ResolvedTaskOptions } from '../worker/task-options';

/**
 * The task's context inside a pool worker. A CPU-bound loop never yields, so the main thread's
 * "soft time limit passed" message cannot be read until it does: `throwIfAborted()` therefore also
 * checks the soft deadline against the clock, and works in a busy loop.
 */
export class PoolTaskContext extends TaskContext {
  private readonly softDeadline: number | null;

  constructor(
    describe: () => TaskRequestInfo,
    options: ResolvedTaskOptions,
    storeState: (state: string, meta: unknown) => Promise<void>,
    private readonly softSeconds: number | null,
  ) {
    super(describe, options, storeState);
    this.softDeadline = softSeconds ? performance.now() + softSeconds * 1000 : null;
  }

  override throwIfAborted(): void {
    if (this.softDeadline !== null && performance.now() >= this.softDeadline)
      this.abort(new SoftTimeLimitExceededError(this.softSeconds!));
    super.throwIfAborted();
  }
}

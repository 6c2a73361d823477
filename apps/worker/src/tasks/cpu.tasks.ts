import { Injectable } from '@nestjs/common';
import { CurrentTask, SharedTask, TaskContext } from 'nestjs-celery';
import { threadId } from 'node:worker_threads';
import { ArithmeticService } from './arithmetic.service';

/** Busy-loops the CPU for `ms` milliseconds, calling `tick` about every 10 ms. */
function spin(ms: number, tick?: () => void): void {
  const end = performance.now() + ms;
  let next = performance.now() + 10;
  while (performance.now() < end) {
    if (tick && performance.now() >= next) {
      tick();
      next = performance.now() + 10;
    }
  }
}

/**
 * CPU-bound tasks, run in the worker's pool (`cpu: true`): a contract other tools (bench, tests,
 * docs) rely on. `worker` is `<pid>:<threadId>` of the pool worker that ran the task.
 */
@Injectable()
export class CpuTasks {
  constructor(private readonly arithmetic: ArithmeticService) {}

  /** Busy-loops `ms` ms of CPU. */
  @SharedTask({ name: 'tasks.burn', cpu: true })
  burn(ms: number): { ms: number; worker: string } {
    spin(ms);
    return { ms, worker: `${process.pid}:${threadId}` };
  }

  /** Ends its pool worker with this exit code (a crash, as far as the worker can tell). */
  @SharedTask({ name: 'tasks.crash', cpu: true })
  crash(code: number): never {
    process.exit(code);
  }

  /** Allocates `mb` MB on the JS heap and holds it until it returns. */
  @SharedTask({ name: 'tasks.grow', cpu: true })
  grow(mb: number): { mb: number; worker: string } {
    const chunks: number[][] = [];
    // 1 MB per chunk: 131072 doubles of 8 bytes (a packed double array).
    for (let i = 0; i < mb; i++) chunks.push(new Array<number>(131_072).fill(i + 0.5));
    return { mb: chunks.length, worker: `${process.pid}:${threadId}` };
  }

  /**
   * Shows what a task keeps inside the pool: an injected provider, its request, progress states,
   * the soft time limit (`ctx.throwIfAborted()` works even inside a busy loop) and `retry`.
   * Spins `steps` × 100 ms, storing PROGRESS after each step; retries once when `retryOnce`.
   */
  @SharedTask({ name: 'tasks.crunch', cpu: true, maxRetries: 1 })
  async crunch(
    steps: number,
    retryOnce: boolean,
    @CurrentTask() ctx: TaskContext,
  ): Promise<{ total: number; worker: string; retries: number; id: string }> {
    if (retryOnce && ctx.request.retries === 0) throw ctx.retry({ countdown: 0 });
    let total = 0;
    for (let i = 1; i <= steps; i++) {
      spin(100, () => ctx.throwIfAborted());
      total = this.arithmetic.add(total, i);
      await ctx.updateState('PROGRESS', { done: i, total: steps, worker: `${process.pid}:${threadId}` });
    }
    return { total, worker: `${process.pid}:${threadId}`, retries: ctx.request.retries, id: ctx.request.id };
  }
}

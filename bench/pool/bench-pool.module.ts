import { Injectable, Module } from '@nestjs/common';
import { SharedTask, TaskQueueModule, optionsFromEnv } from 'nestjs-celery';

/** Busy-loops `ms` milliseconds of CPU. */
export function spin(ms: number): number {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) n++;
  return n;
}

/** The bench's tasks: the same no-op on the event loop and in the pool, and a 50 ms CPU loop. */
@Injectable()
export class BenchPoolTasks {
  @SharedTask('bench.noop_loop')
  noopLoop(x: number): number {
    return x;
  }

  @SharedTask({ name: 'bench.noop', cpu: true })
  noop(x: number): number {
    return x;
  }

  @SharedTask({ name: 'bench.burn', cpu: true })
  burn(ms: number): number {
    spin(ms);
    return ms;
  }
}

/** Root module of the bench's worker (and of its pool workers, which boot it again). Options from TASKQUEUE_*. */
@Module({ imports: [TaskQueueModule.forRoot({ ...optionsFromEnv(), isGlobal: true })], providers: [BenchPoolTasks] })
export class BenchPoolModule {}

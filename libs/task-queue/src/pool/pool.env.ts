import { WorkerPoolOptions, PoolKind } from '../options/pool-options';

/**
 * Pool options from the environment: TASKQUEUE_POOL (`threads` | `processes`), TASKQUEUE_POOL_SIZE,
 * TASKQUEUE_MAX_TASKS_PER_CHILD, TASKQUEUE_MAX_MEMORY_PER_CHILD (KiB), TASKQUEUE_MAX_HEAP_PER_CHILD (MB),
 * TASKQUEUE_POOL_IDLE_TIMEOUT (seconds). Unset variables keep the defaults.
 */
export function poolOptionsFromEnv(env: NodeJS.ProcessEnv): WorkerPoolOptions {
  const num = (v: string | undefined) => (v ? Number(v) : undefined);
  return {
    pool: (env.TASKQUEUE_POOL || undefined) as PoolKind | undefined,
    poolSize: num(env.TASKQUEUE_POOL_SIZE),
    maxTasksPerChild: num(env.TASKQUEUE_MAX_TASKS_PER_CHILD),
    maxMemoryPerChild: num(env.TASKQUEUE_MAX_MEMORY_PER_CHILD),
    maxHeapPerChild: num(env.TASKQUEUE_MAX_HEAP_PER_CHILD),
    poolIdleTimeout: num(env.TASKQUEUE_POOL_IDLE_TIMEOUT),
  };
}

/** Where CPU-bound tasks (`@SharedTask({ cpu: true })`) run: worker threads or child processes. */
export type PoolKind = 'threads' | 'processes';

/**
 * Options of the worker's pool for CPU-bound tasks. Plain tasks keep running on the event loop;
 * only tasks declared `cpu: true` go to the pool. Celery's setting names are in brackets.
 */
export interface WorkerPoolOptions {
  /**
   * `processes`: one child process per pool worker (Celery's prefork): full isolation, RSS per
   * worker, a crash or the OOM killer takes only that child. `threads`: worker threads: lighter and
   * quicker to start, but they share the process's memory and native crashes.
   * @defaultValue 'processes'
   */
  pool?: PoolKind;
  /**
   * Pool workers at most; each runs one task at a time. They start on demand. [-c of the prefork pool]
   * @defaultValue the number of CPUs (`os.availableParallelism()`)
   */
  poolSize?: number;
  /**
   * A pool worker exits after this many tasks and a new one takes its place; 0 means never. [worker_max_tasks_per_child]
   * @defaultValue 0
   */
  maxTasksPerChild?: number;
  /**
   * KiB of resident memory after which a pool worker is replaced, checked after each task (the task
   * that crossed the line still finishes). Processes: the child's RSS. Threads: the thread's own
   * heap plus its external memory (RSS is process-wide). 0 means never. [worker_max_memory_per_child]
   * @defaultValue 0
   */
  maxMemoryPerChild?: number;
  /**
   * MB of JS heap a pool worker may use (threads: `resourceLimits.maxOldGenerationSizeMb`;
   * processes: `--max-old-space-size`). Past it the worker dies and its task fails with
   * WorkerLostError "out of memory". Native memory (Buffers) is not counted (nodejs/node#43991). 0: Node's default.
   * @defaultValue 0
   */
  maxHeapPerChild?: number;
  /**
   * Seconds an idle pool worker waits for a task before it exits (a new one starts on demand). 0 keeps them forever.
   * @defaultValue 300
   */
  poolIdleTimeout?: number;
  /**
   * The Nest module a pool worker boots to build the task's providers, as `path/to/file#ExportName`
   * (a path relative to the working directory). Empty: the app's root module, found by the worker
   * (it must live in its own file, not in the entry file that calls NestFactory).
   * @defaultValue ''
   */
  poolModule?: string;
}

/** Pool options with every default applied. */
export type ResolvedPoolOptions = Required<WorkerPoolOptions>;

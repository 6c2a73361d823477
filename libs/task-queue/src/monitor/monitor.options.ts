/** Options of the task monitor (events, workers, history, queues, metrics). */
export interface TaskMonitorOptions {
  /**
   * Redis URL of the task history. Empty: the result backend's URL when it is Redis, else the
   * broker's when it is Redis, else the history is kept in memory (lost on restart).
   * @defaultValue the result backend's or broker's Redis URL
   */
  historyUrl?: string;
  /** Prefix of the history's keys. @defaultValue 'taskq:monitor:' */
  historyPrefix?: string;
  /** Tasks kept in the history; the oldest go first (trim on write). @defaultValue 100000 */
  maxTasks?: number;
  /** Seconds a task's record lives after its last event. @defaultValue 86400 (Celery's result_expires) */
  taskTtlSeconds?: number;
  /** Longest args/kwargs/result/traceback string kept, in characters. @defaultValue 4096 */
  maxFieldLength?: number;
  /** Seconds an offline worker stays listed before it is forgotten (views and metrics). @defaultValue 300 */
  purgeOfflineAfterSeconds?: number;
  /** Seconds between `stats` / `active_queues` broadcasts to online workers (queues, pool). @defaultValue 10 */
  inspectIntervalSeconds?: number;
  /** Seconds between queue length reads. @defaultValue 5 */
  queueIntervalSeconds?: number;
  /** Queues always shown, besides those workers consume and (Redis) those Celery declared. @defaultValue [] */
  queues?: string[];
}

export type ResolvedMonitorOptions = Required<TaskMonitorOptions>;

export function resolveMonitorOptions(o: TaskMonitorOptions = {}): ResolvedMonitorOptions {
  return {
    historyUrl: o.historyUrl ?? '',
    historyPrefix: o.historyPrefix ?? 'taskq:monitor:',
    maxTasks: o.maxTasks ?? 100_000,
    taskTtlSeconds: o.taskTtlSeconds ?? 86_400,
    maxFieldLength: o.maxFieldLength ?? 4096,
    purgeOfflineAfterSeconds: o.purgeOfflineAfterSeconds ?? 300,
    inspectIntervalSeconds: o.inspectIntervalSeconds ?? 10,
    queueIntervalSeconds: o.queueIntervalSeconds ?? 5,
    queues: o.queues ?? [],
  };
}

/** Options of the broker and backend checks. */
export interface ReachableCheckOptions {
  /** Ms the round trip may take before the check reads as down. @defaultValue 1000 */
  timeoutMs?: number;
}

/** Options of the workers check. */
export interface WorkersCheckOptions {
  /** The queue the workers must consume. @defaultValue the module's `defaultQueue` */
  queue?: string;
  /** How many workers must consume it. @defaultValue 1 */
  min?: number;
  /** Seconds to collect the workers' `active_queues` replies (all of them: the check waits this long). @defaultValue 1 */
  timeout?: number;
}

/** Options of the backlog check. */
export interface BacklogCheckOptions {
  /** The queue to measure. @defaultValue the module's `defaultQueue` */
  queue?: string;
  /** The check is down when more messages than this wait in the queue (ready ones, not delayed or unacked). */
  max: number;
  /** Ms the length read may take. @defaultValue 1000 */
  timeoutMs?: number;
}

/** Injection token of the resolved beat options. */
export const TASK_QUEUE_BEAT_CONFIG = Symbol('TASK_QUEUE_BEAT_CONFIG');
/** Metadata key of @Periodic. */
export const PERIODIC_METADATA = 'task-queue:periodic';

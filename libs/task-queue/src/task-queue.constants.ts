/** Injection token of the Broker. */
export const TASK_QUEUE_BROKER = Symbol('TASK_QUEUE_BROKER');
/** Injection token of the ResultBackend. */
export const TASK_QUEUE_RESULT_BACKEND = Symbol('TASK_QUEUE_RESULT_BACKEND');
/** Injection token of the resolved options (ResolvedTaskQueueOptions). */
export const TASK_QUEUE_CONFIG = Symbol('TASK_QUEUE_CONFIG');
/** Metadata key written by @SharedTask on a method. */
export const SHARED_TASK_METADATA = 'task-queue:shared-task';
/** Metadata key written by @CurrentTask: the index of the TaskContext parameter. */
export const TASK_CONTEXT_PARAM_METADATA = 'task-queue:task-context-param';
/** Metadata key written by @OnTaskEvent on a listener method. */
export const TASK_EVENT_LISTENER_METADATA = 'task-queue:task-event-listener';

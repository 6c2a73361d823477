import { TASK_CONTEXT_PARAM_METADATA } from '../task-queue.constants';

/**
 * Injects the running task's TaskContext into a @SharedTask method parameter. The parameter is not
 * a task argument: callers do not pass it, and Celery kwargs never map onto it.
 *
 * @example @SharedTask('images.resize') resize(path: string, @CurrentTask() ctx: TaskContext) { ctx.signal … }
 */
export function CurrentTask(): ParameterDecorator {
  return (target, method, index) => {
    if (method === undefined) throw new TypeError('@CurrentTask() goes on a parameter of a @SharedTask method.');
    Reflect.defineMetadata(TASK_CONTEXT_PARAM_METADATA, index, target, method);
  };
}

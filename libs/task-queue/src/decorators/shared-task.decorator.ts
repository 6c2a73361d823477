import { SetMetadata } from '@nestjs/common';
import { SHARED_TASK_METADATA } from '../task-queue.constants';
import { SharedTaskOptions } from '../options/shared-task-options';

/**
 * Marks a provider method as a task that workers run and clients send by name.
 *
 * @example @SharedTask()                          // name "<ClassName>.<method>"
 * @example @SharedTask('tasks.add')
 * @example @SharedTask({ name: 'tasks.add', queue: 'math', ignoreResult: true })
 */
export function SharedTask(nameOrOptions?: string | SharedTaskOptions): MethodDecorator {
  const options: SharedTaskOptions = typeof nameOrOptions === 'string' ? { name: nameOrOptions } : { ...nameOrOptions };
  return SetMetadata(SHARED_TASK_METADATA, options);
}

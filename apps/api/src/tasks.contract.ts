import { defineTask } from 'nestjs-celery';

/**
 * The tasks this app sends, typed by name. The worker (or a Python service) implements them;
 * this app does not need their code.
 */
export const myTask = defineTask<(duration: number) => string>('myapp.tasks.my_task');
export const add = defineTask<(x: number, y: number) => number>('tasks.add');
export const fail = defineTask<(message: string) => never>('tasks.fail');

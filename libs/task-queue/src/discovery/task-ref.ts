import { Type } from '@nestjs/common';
import { TaskDefinitionError } from '../errors';
import { getSharedTaskMetadata, taskNameOf } from './task-metadata.accessor';

export type AnyFn = (...args: any[]) => any;

/**
 * A typed reference to a task: its name and queue, and (in the type only) its signature, so that
 * `client.delay(ref, ...args)` checks the arguments and types the result.
 */
export interface TaskRef<F extends AnyFn = AnyFn> {
  readonly name: string;
  readonly queue?: string;
  /** Phantom: carries the signature for the type checker; never set at run time. */
  readonly __signature?: F;
}

/** The arguments of a referenced task. */
export type TaskArgs<R> = R extends TaskRef<infer F> ? Parameters<F> : never;
/** What `get()` resolves to for a referenced task. */
export type TaskResult<R> = R extends TaskRef<infer F> ? Awaited<ReturnType<F>> : never;

/** Methods of T that are functions. */
export type MethodKeys<T> = { [K in keyof T]: T[K] extends AnyFn ? K : never }[keyof T] & string;

/**
 * A reference to a @SharedTask method of a provider class, typed from the method's signature.
 * Needs no DI: usable as a module-level constant in a producer that never instantiates the class.
 *
 * @example const add = taskRef(MathTasks, 'add');  await client.delay(add, 2, 3)
 */
export function taskRef<T, K extends MethodKeys<T>>(cls: Type<T>, method: K): TaskRef<Extract<T[K], AnyFn>> {
  const fn = (cls.prototype as Record<string, unknown>)[method];
  const meta = getSharedTaskMetadata(fn);
  if (!meta) {
    throw new TaskDefinitionError(`${cls.name}.${method} is not a task: decorate it with @SharedTask() to send it.`);
  }
  return { name: taskNameOf(cls.name, method, meta), queue: meta.queue };
}

/**
 * A typed reference to a task by name: for tasks that live in another service or in Python.
 *
 * @example const pyAdd = defineTask<(x: number, y: number) => number>('py.add', { queue: 'python' })
 */
export function defineTask<F extends AnyFn = AnyFn>(name: string, options: { queue?: string } = {}): TaskRef<F> {
  return { name, queue: options.queue };
}

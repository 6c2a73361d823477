import { repr } from './py-repr';

/** How Celery stores an exception with a non-pickle serializer. */
export interface ExceptionInfo {
  exc_type: string;
  exc_message: unknown[];
  exc_module: string | null;
}

/**
 * Python builtin exception names. A JS error with one of these names is stored under module
 * `builtins`, so that Python re-raises the real class (a JS TypeError becomes Python's TypeError).
 * Any other name goes under `nodejs`, which Python turns into a same-named Exception subclass.
 */
const PYTHON_BUILTINS = new Set([
  'Exception',
  'ValueError',
  'TypeError',
  'KeyError',
  'IndexError',
  'RuntimeError',
  'AttributeError',
  'NotImplementedError',
  'ZeroDivisionError',
  'LookupError',
  'ArithmeticError',
  'AssertionError',
  'OverflowError',
  'TimeoutError',
  'ConnectionError',
  'PermissionError',
  'FileNotFoundError',
  'OSError',
]);

export function exceptionInfo(err: unknown): ExceptionInfo {
  if (err instanceof Error) {
    const e = err as Error & { excType?: string; excModule?: string | null; excMessage?: unknown[] };
    const type = e.excType ?? e.name ?? e.constructor?.name ?? 'Error';
    return {
      exc_type: type,
      exc_message: e.excMessage ?? [e.message],
      exc_module: e.excModule !== undefined ? e.excModule : PYTHON_BUILTINS.has(type) ? 'builtins' : 'nodejs',
    };
  }
  return { exc_type: 'Exception', exc_message: [String(err)], exc_module: 'builtins' };
}

/** A JS stack reads as the traceback, the way Python prints one. */
export function tracebackOf(err: unknown): string | null {
  return err instanceof Error && err.stack ? err.stack : null;
}

/** Celery's module for its own exceptions (NotRegistered, ChordError, Retry, …). */
export const CELERY_EXCEPTIONS_MODULE = 'celery.exceptions';

/** How Python prints the exception: `ValueError('bad', 3)`, as logs, events and chord errors show it. */
export function excRepr(info: ExceptionInfo): string {
  return `${info.exc_type}(${info.exc_message.map(repr).join(', ')})`;
}

/** The exception stored for a message whose task this worker does not know (Celery's NotRegistered). */
export function notRegisteredInfo(taskName: string): ExceptionInfo {
  return { exc_type: 'NotRegistered', exc_message: [taskName], exc_module: CELERY_EXCEPTIONS_MODULE };
}

/** Celery's ChordError message for a failed header part: `Dependency <id> raised <repr of the exception>`. */
export function dependencyRaised(taskId: string, state: string, result: unknown): string {
  const exc = result as Partial<ExceptionInfo> | null;
  const what = exc?.exc_type
    ? excRepr({ exc_type: exc.exc_type, exc_message: exc.exc_message ?? [], exc_module: exc.exc_module ?? null })
    : state;
  return `Dependency ${taskId} raised ${what}`;
}

import { TaskState } from '../states';
import { SerializationError } from '../errors';
import { decodeJson, encodeJson } from './json.codec';
import { toNaiveUtcIso, parseIsoTime } from './iso-time';

/**
 * What a result backend stores for a task: Celery's meta dict (celery-wire.md 5.2), field for field.
 * Kept in snake_case because it is the stored form that Python reads too.
 */
export interface ResultMeta {
  status: TaskState;
  result: unknown;
  traceback: string | null;
  children: unknown[];
  date_done: string | null;
  group_id?: string | null;
  parent_id?: string | null;
  name?: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  worker?: string;
  retries?: number;
  queue?: string;
  task_id: string;
}

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
  'Exception', 'ValueError', 'TypeError', 'KeyError', 'IndexError', 'RuntimeError', 'AttributeError',
  'NotImplementedError', 'ZeroDivisionError', 'LookupError', 'ArithmeticError', 'AssertionError',
  'OverflowError', 'TimeoutError', 'ConnectionError', 'PermissionError', 'FileNotFoundError', 'OSError',
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

export function readyMeta(
  taskId: string,
  status: TaskState,
  result: unknown,
  traceback: string | null,
  extra: Partial<ResultMeta> = {},
  now = new Date(),
): ResultMeta {
  return { status, result, traceback, children: [], date_done: toNaiveUtcIso(now), ...extra, task_id: taskId };
}

export function pendingMeta(taskId: string): ResultMeta {
  return { status: TaskState.PENDING, result: null, traceback: null, children: [], date_done: null, task_id: taskId };
}

/**
 * Serializes a meta in Celery's field order. Built field by field: only the parts a task supplies
 * (result, children, args, kwargs) go through the checking encoder. A result JSON cannot carry
 * becomes a FAILURE meta with the SerializationError.
 */
export function encodeResultMeta(meta: ResultMeta): string {
  try {
    return writeMeta(meta);
  } catch (err) {
    if (!(err instanceof SerializationError)) throw err;
    return writeMeta({ ...meta, status: TaskState.FAILURE, result: exceptionInfo(err), traceback: tracebackOf(err) });
  }
}

const OPTIONAL_FIELDS = ['group_id', 'parent_id', 'name', 'args', 'kwargs', 'worker', 'retries', 'queue'] as const;

function writeMeta(m: ResultMeta): string {
  const what = `the result of task ${m.task_id}`;
  let out =
    `{"status":${JSON.stringify(m.status)},"result":${encodeJson(m.result ?? null, what)}` +
    `,"traceback":${JSON.stringify(m.traceback ?? null)}` +
    `,"children":${m.children && m.children.length ? encodeJson(m.children, what) : '[]'}` +
    `,"date_done":${JSON.stringify(m.date_done ?? null)}`;
  for (const k of OPTIONAL_FIELDS) if (m[k] !== undefined) out += `,"${k}":${encodeJson(m[k], what)}`;
  return `${out},"task_id":${JSON.stringify(m.task_id)}}`;
}

export function decodeResultMeta(text: string): ResultMeta {
  return decodeJson(text) as ResultMeta;
}

/** `date_done` as a Date: 5.2.6 writes naive UTC, >= 5.5 writes `+00:00`. */
export function dateDoneOf(meta: ResultMeta): Date | null {
  return meta.date_done ? parseIsoTime(meta.date_done) : null;
}

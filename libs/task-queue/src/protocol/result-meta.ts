import { TaskState } from '../states';
import { SerializationError } from '../errors';
import { decodeJson, encodeJson } from './json.codec';
import { toNaiveUtcIso, parseIsoTime } from './iso-time';
import { exceptionInfo, tracebackOf } from './exception-info';

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

/**
 * A state that is not final (STARTED, RETRY, or a custom state from `ctx.updateState`): no `date_done`.
 * `extra` is `metaExtra(…)`, so `group_id`/`parent_id` appear only when set, as in Celery.
 */
export function stateMeta(
  taskId: string,
  status: TaskState | string,
  result: unknown,
  traceback: string | null,
  extra: Partial<ResultMeta>,
): ResultMeta {
  return { status: status as TaskState, result, traceback, children: [], date_done: null, ...extra, task_id: taskId };
}

/** Celery adds `group_id` and `parent_id` to a meta only when they are set. */
export function metaExtra(
  groupId: string | null | undefined,
  parentId: string | null | undefined,
): Partial<ResultMeta> {
  const extra: Partial<ResultMeta> = {};
  if (groupId) extra.group_id = groupId;
  if (parentId) extra.parent_id = parentId;
  return extra;
}

/** The result of STARTED (`track_started`): who runs it. */
export function startedResult(pid: number, hostname: string): { pid: number; hostname: string } {
  return { pid, hostname };
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

import { READY_STATES, TaskState } from '../states';
import { CeleryEvent } from './celery-event';

/** One task as the dashboard shows it: what its events said, merged with its stored result. */
export interface TaskRecord {
  id: string;
  name: string | null;
  state: string;
  args: string | null;
  kwargs: string | null;
  /** The result's repr (from task-succeeded) or the stored result, as JSON text. */
  result: string | null;
  exception: string | null;
  traceback: string | null;
  retries: number;
  parentId: string | null;
  rootId: string | null;
  groupId: string | null;
  children: string[];
  worker: string | null;
  /** The queue it was sent to, when known (task-sent events, Celery's extended results). */
  queue: string | null;
  eta: string | null;
  expires: string | null;
  /** Seconds the task ran (task-succeeded's runtime). */
  runtime: number | null;
  /** Ms since the epoch: first seen (sent or received), started, finished. */
  received: number | null;
  started: number | null;
  finished: number | null;
  /** Each event type seen, with its time (ms) and the host that sent it, oldest first. */
  timeline: Array<{ type: string; at: number; hostname: string }>;
}

/** What one task event changes, as flat string fields (the shape a Redis hash stores). */
export interface TaskPatch {
  id: string;
  /** The state this event puts the task in, and its rank (a later event wins, a ready state wins over any other). */
  state: string | null;
  rank: number;
  fields: Record<string, string>;
  /** The parent to list this task under as a child. */
  parentId: string | null;
  /** When the task was first seen, ms. */
  at: number;
}

const STATE_OF: Record<string, string> = {
  'task-sent': 'PENDING',
  'task-received': TaskState.RECEIVED,
  'task-started': TaskState.STARTED,
  'task-succeeded': TaskState.SUCCESS,
  'task-failed': TaskState.FAILURE,
  'task-retried': TaskState.RETRY,
  'task-revoked': TaskState.REVOKED,
  'task-rejected': 'REJECTED',
};

/** Ready states outrank every other (a late task-started never hides a SUCCESS), then the event time. */
const READY_RANK = 1e13;

/**
 * Turns a task-* event into the fields it sets. Strings longer than `maxField` characters are cut,
 * so one task with a huge argument cannot blow the history's memory bound.
 */
export function taskPatch(e: CeleryEvent, maxField = 4096): TaskPatch | null {
  const id = typeof e.uuid === 'string' ? e.uuid : null;
  if (!id) return null;
  const at = Math.round(e.timestamp * 1000);
  const state = STATE_OF[e.type] ?? null;
  const fields: Record<string, string> = {};
  const put = (k: string, v: unknown) => {
    if (v === undefined || v === null) return;
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    fields[k] = s.length > maxField ? `${s.slice(0, maxField)}…` : s;
  };
  put(`ev:${e.type}`, `${at}|${e.hostname}`);
  switch (e.type) {
    case 'task-sent':
    case 'task-received':
      put('name', e.name);
      put('args', e.args);
      put('kwargs', e.kwargs);
      put('retries', e.retries);
      put('root_id', e.root_id);
      put('parent_id', e.parent_id);
      put('eta', e.eta);
      put('expires', e.expires);
      put('queue', e.queue ?? e.routing_key);
      if (e.type === 'task-received') {
        put('worker', e.hostname);
        put('received', at);
      }
      break;
    case 'task-started':
      put('worker', e.hostname);
      put('started', at);
      break;
    case 'task-succeeded':
      put('result', e.result);
      put('runtime', e.runtime);
      put('finished', at);
      break;
    case 'task-failed':
    case 'task-retried':
      put('exception', e.exception);
      put('traceback', e.traceback);
      if (e.type === 'task-failed') put('finished', at);
      break;
    case 'task-revoked':
      put('finished', at);
      if (e.terminated) put('exception', 'Terminated');
      else if (e.expired) put('exception', 'Expired');
      break;
  }
  const ready = state !== null && (READY_STATES.has(state) || state === 'REJECTED');
  return {
    id,
    state,
    rank: (ready ? READY_RANK : 0) + at,
    fields,
    parentId: typeof e.parent_id === 'string' ? e.parent_id : null,
    at,
  };
}

/** A stored hash back into a record. */
export function recordOf(id: string, h: Record<string, string>): TaskRecord {
  const num = (k: string) => (h[k] !== undefined && h[k] !== '' ? Number(h[k]) : null);
  const timeline: TaskRecord['timeline'] = [];
  const children: string[] = [];
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith('ev:')) {
      const bar = v.indexOf('|');
      timeline.push({ type: k.slice(3), at: Number(v.slice(0, bar)), hostname: v.slice(bar + 1) });
    } else if (k.startsWith('child:')) children.push(k.slice(6));
  }
  timeline.sort((a, b) => a.at - b.at);
  return {
    id,
    name: h.name ?? null,
    state: h.state ?? 'PENDING',
    args: h.args ?? null,
    kwargs: h.kwargs ?? null,
    result: h.result ?? null,
    exception: h.exception ?? null,
    traceback: h.traceback ?? null,
    retries: num('retries') ?? 0,
    parentId: h.parent_id ?? null,
    rootId: h.root_id ?? null,
    groupId: h.group_id ?? null,
    children,
    worker: h.worker ?? null,
    queue: h.queue ?? null,
    eta: h.eta ?? null,
    expires: h.expires ?? null,
    runtime: num('runtime'),
    received: num('received') ?? timeline[0]?.at ?? null,
    started: num('started'),
    finished: num('finished'),
    timeline,
  };
}

/** Filters of the task list. Times are ms since the epoch. */
export interface TaskFilter {
  state?: string;
  name?: string;
  worker?: string;
  /** Tasks whose root is this id (the chain, chord or group tree it belongs to). */
  root?: string;
  from?: number;
  to?: number;
  /** Free text: matched against id, name, args, kwargs, result and exception. */
  search?: string;
  limit?: number;
  offset?: number;
  /** Stop after looking at this many records, newest first (a filter that matches little would read the whole history). @defaultValue all */
  scanLimit?: number;
}

export function matches(r: TaskRecord, f: TaskFilter): boolean {
  if (f.state && r.state !== f.state) return false;
  if (f.name && r.name !== f.name) return false;
  if (f.worker && r.worker !== f.worker) return false;
  if (f.root && r.rootId !== f.root && r.id !== f.root) return false;
  if (f.search) {
    const s = f.search.toLowerCase();
    const hay = [r.id, r.name, r.args, r.kwargs, r.result, r.exception].filter(Boolean).join('\n').toLowerCase();
    if (!hay.includes(s)) return false;
  }
  return true;
}

import { TaskMessage } from '../protocol/task-message';
import { decodeJson } from '../protocol/json.codec';

/** One Celery event as sent on `celeryev` (celery-wire.md 8): `type`, `hostname`, `timestamp` (s) and the type's own fields. */
export interface CeleryEvent {
  type: string;
  hostname: string;
  timestamp: number;
  [field: string]: unknown;
}

/**
 * The events of one `celeryev` message: a single event, or a list (`task.multi`, sent by
 * workers that buffer task events). Anything without a `type` is dropped, never thrown.
 */
export function eventsOf(message: TaskMessage): CeleryEvent[] {
  let body: unknown;
  try {
    body = decodeJson(message.body.toString('utf8'));
  } catch {
    return [];
  }
  const list = Array.isArray(body) ? body : [body];
  return list
    .filter((e): e is CeleryEvent => !!e && typeof e === 'object' && typeof (e as CeleryEvent).type === 'string')
    .map((e) => ({
      ...e,
      hostname: typeof e.hostname === 'string' ? e.hostname : String(message.headers.hostname ?? 'unknown'),
      timestamp: typeof e.timestamp === 'number' ? e.timestamp : Date.now() / 1000,
    }));
}

export function isTaskEvent(e: CeleryEvent): boolean {
  return e.type.startsWith('task-');
}

export function isWorkerEvent(e: CeleryEvent): boolean {
  return e.type.startsWith('worker-');
}

import { ResultMeta, decodeResultMeta, encodeResultMeta } from '../../protocol/result-meta';
import { decodeJson, encodeJson } from '../../protocol/json.codec';
import { SerializationError } from '../../errors';

/**
 * The body of an rpc:// reply: `{task_id, status, result, traceback, children}` in that order, as
 * Celery's RPCBackend._to_result writes it (celery-wire.md 5.6). No date_done, no extended fields.
 */
export function encodeRpcReply(meta: ResultMeta): Buffer {
  const what = `the result of task ${meta.task_id}`;
  try {
    return Buffer.from(encodeJson(replyOf(meta), what), 'utf8');
  } catch (err) {
    if (!(err instanceof SerializationError)) throw err;
    // encodeResultMeta turns a result JSON cannot carry into a FAILURE meta; reuse that rule.
    return Buffer.from(encodeJson(replyOf(decodeResultMeta(encodeResultMeta(meta))), what), 'utf8');
  }
}

function replyOf(meta: ResultMeta): Record<string, unknown> {
  return {
    task_id: meta.task_id,
    status: meta.status,
    result: meta.result ?? null,
    traceback: meta.traceback ?? null,
    children: meta.children ?? [],
  };
}

/** Reads a reply; the correlation id wins over the body's task_id, as Celery sorts replies by it. */
export function decodeRpcReply(body: Buffer, correlationId: string | undefined): ResultMeta {
  const raw = decodeJson(body.toString('utf8'));
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new TypeError('an rpc reply must be a JSON object');
  const r = raw as Record<string, unknown>;
  const taskId = correlationId || (typeof r.task_id === 'string' ? r.task_id : '');
  if (!taskId) throw new TypeError('the reply names no task (no correlation_id, no task_id)');
  if (typeof r.status !== 'string') throw new TypeError('the reply has no status');
  return {
    status: r.status,
    result: r.result ?? null,
    traceback: typeof r.traceback === 'string' ? r.traceback : null,
    children: Array.isArray(r.children) ? r.children : [],
    date_done: typeof r.date_done === 'string' ? r.date_done : null,
    task_id: taskId,
  };
}

import { argsRepr, kwargsRepr, repr } from './py-repr';
import { excRepr, exceptionInfo, tracebackOf } from './exception-info';
import { toCeleryIso } from './iso-time';
import { softwareFields } from './event-message';

/**
 * The fields of Celery's monitoring events (celery-wire.md 8), as `celery events` and Flower read
 * them. The envelope (type, hostname, clock, timestamp) is `eventBody`'s.
 */

/** The parts of a request the task-received event shows. */
export interface ReceivedRequest {
  id: string;
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  rootId: string | null;
  parentId: string | null;
  retries: number;
  eta: Date | null;
  expires: Date | null;
}

export function taskReceivedFields(r: ReceivedRequest): Record<string, unknown> {
  return {
    uuid: r.id,
    name: r.task,
    args: argsRepr(r.args),
    kwargs: kwargsRepr(r.kwargs),
    root_id: r.rootId,
    parent_id: r.parentId,
    retries: r.retries,
    eta: r.eta ? toCeleryIso(r.eta) : null,
    expires: r.expires ? toCeleryIso(r.expires) : null,
  };
}

export function taskStartedFields(id: string): Record<string, unknown> {
  return { uuid: id };
}

export function taskSucceededFields(id: string, result: unknown, runtime: number): Record<string, unknown> {
  return { uuid: id, result: repr(result), runtime };
}

/** task-failed and task-retried: the exception as Python prints it, and the traceback. */
export function taskErrorFields(id: string, error: unknown): Record<string, unknown> {
  return { uuid: id, exception: excRepr(exceptionInfo(error)), traceback: tracebackOf(error) ?? '' };
}

export function taskRevokedFields(id: string, reason: string | undefined): Record<string, unknown> {
  return {
    uuid: id,
    terminated: reason === 'terminated',
    signum: reason === 'terminated' ? 15 : null,
    expired: reason === 'expired',
  };
}

export function taskRejectedFields(id: string): Record<string, unknown> {
  return { uuid: id, requeue: false };
}

/** worker-online, worker-heartbeat and worker-offline. */
export function workerFields(
  freq: number,
  active: number,
  processed: number,
  loadavg: number[],
  version: string,
): Record<string, unknown> {
  return { freq, active, processed, loadavg, ...softwareFields(version) };
}

import {
  Ignore,
  Reject,
  RetryError,
  SoftTimeLimitExceededError,
  TaskRevokedError,
  TimeLimitExceededError,
} from '../errors';
import type { ErrorClass } from '../options/shared-task-options';

/**
 * An error as it crosses between a pool worker and the main thread. Errors do not keep their class
 * over structured clone, so the library's control-flow errors (retry, reject, ignore, time limits)
 * are sent by kind and rebuilt as the real classes; any other error keeps its name, message, stack
 * and Celery fields (excType, excModule, excMessage), which is all the stored FAILURE needs.
 */
export type EncodedError =
  | { kind: 'retry'; eta: Date; exc?: EncodedError }
  | { kind: 'reject'; reason: string; requeue: boolean }
  | { kind: 'ignore'; reason: string }
  | { kind: 'soft'; seconds: number }
  | { kind: 'hard'; seconds: number }
  | { kind: 'revoked'; reason: 'revoked' | 'expired' | 'terminated' }
  | {
      kind: 'error';
      name: string;
      message: string;
      stack?: string;
      excType?: string;
      excModule?: string | null;
      excMessage?: unknown[];
      classes: string[];
    }
  | { kind: 'value'; value: unknown };

export function encodeError(err: unknown): EncodedError {
  if (err instanceof RetryError)
    return { kind: 'retry', eta: err.eta, exc: err.exc === undefined ? undefined : encodeError(err.exc) };
  if (err instanceof Reject) return { kind: 'reject', reason: err.reason, requeue: err.requeue };
  if (err instanceof Ignore) return { kind: 'ignore', reason: err.message };
  if (err instanceof SoftTimeLimitExceededError) return { kind: 'soft', seconds: err.seconds };
  if (err instanceof TimeLimitExceededError) return { kind: 'hard', seconds: err.seconds };
  if (err instanceof TaskRevokedError) return { kind: 'revoked', reason: err.reason };
  if (err instanceof Error) {
    const e = err as Error & { excType?: string; excModule?: string | null; excMessage?: unknown[] };
    const classes: string[] = [];
    for (
      let p = Object.getPrototypeOf(err) as { constructor?: { name?: string } } | null;
      p && p !== Error.prototype;
      p = Object.getPrototypeOf(p)
    ) {
      if (p.constructor?.name) classes.push(p.constructor.name);
    }
    let excMessage = e.excMessage;
    try {
      structuredClone(excMessage);
    } catch {
      excMessage = undefined;
    }
    return {
      kind: 'error',
      name: e.name,
      message: e.message,
      stack: e.stack,
      excType: e.excType ?? e.name,
      excModule: e.excModule,
      excMessage,
      classes,
    };
  }
  try {
    return { kind: 'value', value: structuredClone(err) };
  } catch {
    return { kind: 'value', value: String(err) };
  }
}

/**
 * Rebuilds an error. `known` are the error classes the task names in autoretryFor/dontAutoretryFor:
 * an error whose class (or a parent class) has the same name gets that prototype back, so that the
 * worker's `instanceof` checks decide automatic retries as they would on the event loop.
 */
export function decodeError(e: EncodedError, known: ErrorClass[] = []): unknown {
  switch (e.kind) {
    case 'retry':
      return new RetryError(e.eta, e.exc === undefined ? undefined : decodeError(e.exc, known));
    case 'reject':
      return new Reject(e.reason, e.requeue);
    case 'ignore':
      return new Ignore(e.reason);
    case 'soft':
      return new SoftTimeLimitExceededError(e.seconds);
    case 'hard':
      return new TimeLimitExceededError(e.seconds);
    case 'revoked':
      return new TaskRevokedError(e.reason);
    case 'value':
      return e.value;
    case 'error': {
      const cls = e.classes.map((n) => known.find((k) => k.name === n)).find(Boolean);
      const err = Object.create(cls ? cls.prototype : Error.prototype) as Error & Record<string, unknown>;
      Object.defineProperty(err, 'message', { value: e.message, writable: true, configurable: true });
      Object.defineProperty(err, 'stack', { value: e.stack, writable: true, configurable: true });
      Object.defineProperty(err, 'name', { value: e.name, writable: true, configurable: true });
      if (e.excType !== undefined) Object.defineProperty(err, 'excType', { value: e.excType, configurable: true });
      if (e.excModule !== undefined)
        Object.defineProperty(err, 'excModule', { value: e.excModule, configurable: true });
      if (e.excMessage !== undefined)
        Object.defineProperty(err, 'excMessage', { value: e.excMessage, configurable: true });
      return err;
    }
  }
}

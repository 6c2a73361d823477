import { InvalidTaskMessageError } from '../errors';

/**
 * Strict readers of the numeric fields of a task message. A value that is present but not a valid
 * number makes the message invalid (the worker dead-letters it with this reason) instead of being
 * read as "absent": a `timelimit` of `["10", null]` silently meaning "no limit" would change what
 * the sender asked for.
 */

/** A JSON number (or a BigInt from the tolerant parser) as a finite number, else undefined. */
function finite(x: unknown): number | undefined {
  const n = typeof x === 'bigint' ? Number(x) : typeof x === 'number' ? x : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The `timelimit` header `[hard, soft]` in seconds. Each item is null (none), 0 (none, as in Celery)
 * or a positive finite number; anything else is refused.
 */
export function parseTimeLimitHeader(v: unknown): [number | null, number | null] {
  if (v === null || v === undefined) return [null, null];
  if (!Array.isArray(v) || v.length !== 2)
    throw new InvalidTaskMessageError(`The "timelimit" header must be [hard, soft]; got ${show(v)}.`);
  const item = (x: unknown, which: string): number | null => {
    if (x === null || x === undefined) return null;
    const n = finite(x);
    if (n === undefined || n < 0) {
      throw new InvalidTaskMessageError(
        `The ${which} time limit in the "timelimit" header must be null or a number of seconds >= 0; got ${show(x)}.`,
      );
    }
    return n === 0 ? null : n;
  };
  return [item(v[0], 'hard'), item(v[1], 'soft')];
}

/** The `retries` header: absent or null is 0, else a whole number >= 0. */
export function parseRetriesHeader(v: unknown): number {
  if (v === null || v === undefined) return 0;
  const n = finite(v);
  if (n === undefined || n < 0 || !Number.isInteger(n))
    throw new InvalidTaskMessageError(`The "retries" header must be a whole number >= 0; got ${show(v)}.`);
  return n;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}`;
  if (typeof v === 'number') return String(v); // NaN and Infinity, which JSON.stringify turns into null
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

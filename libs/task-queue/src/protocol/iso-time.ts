/**
 * Times on the wire. Celery headers (eta, expires) and `date_done` are ISO-8601 strings.
 * We write Python's `isoformat()` shape with six fraction digits and an explicit offset, because
 * Celery 5.2.6 reads the fraction digits as microseconds without padding (celery-wire.md 2.3).
 */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `2026-11-23T22:56:05.186000+00:00`: what Celery's clients put in `eta` and `expires`. */
export function toCeleryIso(date: Date): string {
  return `${naiveUtc(date)}+00:00`;
}

/** `2026-11-23T22:56:05.186000`: naive UTC, as Celery 5.2.6 writes `date_done`. */
export function toNaiveUtcIso(date: Date): string {
  return naiveUtc(date);
}

/** `2024-01-02T03:04:05.678000Z`: kombu 5.2's JSON form of an aware UTC datetime (task arguments). */
export function toKombuJsonDate(date: Date): string {
  return `${naiveUtc(date)}Z`;
}

function naiveUtc(d: Date): string {
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}000`
  );
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Parses the ISO forms Celery accepts: `Z`, `±HH:MM`, `±HHMM`, a space for `T`, a bare date, and any
 * number of fraction digits (read as a decimal fraction of a second, as Celery >= 5.3 does).
 * A time without offset is UTC (Celery's default `timezone`). Returns null for anything else.
 */
export function parseIsoTime(text: string): Date | null {
  const m = ISO_RE.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', tz] = m;
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  let t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, ms);
  if (tz && tz.toUpperCase() !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0');
    t -= sign * offsetMin * 60_000;
  }
  return Number.isNaN(t) ? null : new Date(t);
}

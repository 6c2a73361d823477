/**
 * A Python-style `repr()` of task arguments, for the `argsrepr`/`kwargsrepr` headers that Celery's
 * logs, events and Flower show. Cut at 1024 characters, as Celery does. Display only: never parsed.
 */
const MAX = 1024;

export function argsRepr(args: readonly unknown[]): string {
  const inner = args.map(repr).join(', ');
  return cut(args.length === 1 ? `(${inner},)` : `(${inner})`);
}

export function kwargsRepr(kwargs: Record<string, unknown>): string {
  return cut(repr(kwargs));
}

export function repr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloat(v);
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  if (v instanceof Date) return `'${v.toISOString()}'`;
  if (Array.isArray(v)) return `[${v.map(repr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${repr(k)}: ${repr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

function pyFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return String(n);
}

function cut(s: string): string {
  return s.length > MAX ? `${s.slice(0, MAX - 3)}...` : s;
}

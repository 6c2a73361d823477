import { ConfigurationError } from '../errors';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds between two starts for a Celery rate limit: `'10/s'`, `'100/m'`, `'1000/h'`, or a
 * number per second. Here, below the worker and remote control, so both check a rate the same way.
 */
export function parseRateLimit(limit: string | number): number {
  if (typeof limit === 'number') {
    if (!(limit > 0) || !Number.isFinite(limit)) throw new ConfigurationError(`rateLimit must be > 0, got ${limit}.`);
    return 1000 / limit;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?\s*$/.exec(limit);
  if (!m || Number(m[1]) <= 0)
    throw new ConfigurationError(`rateLimit "${limit}" is not a rate: write it as '10/s', '100/m' or '1000/h'.`);
  return UNITS[m[2] ?? 's'] / Number(m[1]);
}

import { ConfigurationError } from '../errors';
import { schemeOf } from '../transports/url-scheme';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { TaskQueueModuleOptions } from '../options/task-queue-options';
import { maskUrl } from '../transports/url-mask';
import { ResolvedBeatOptions } from '../options/beat-options';
import { validateEntry } from './schedule.factory';

/**
 * Applies the defaults of the `beat` options. The store URL is chosen here but opened only when
 * something needs it, so an app that never schedules pays nothing, and an AMQP + rpc:// app fails
 * only when it runs a scheduler or edits entries.
 */
export function resolveBeatOptions(o: TaskQueueModuleOptions, config: ResolvedTaskQueueOptions): ResolvedBeatOptions {
  const b = o.beat ?? {};
  const positive = (v: number | undefined, dflt: number, what: string) => {
    const n = v ?? dflt;
    if (!Number.isFinite(n) || n <= 0) throw new ConfigurationError(`beat.${what} must be a number > 0, got ${v}.`);
    return n;
  };
  const leaseMs = positive(b.leaseSeconds, 5, 'leaseSeconds') * 1000;
  const renewMs = positive(b.renewSeconds, 1, 'renewSeconds') * 1000;
  if (renewMs >= leaseMs)
    throw new ConfigurationError(
      `beat.renewSeconds (${renewMs / 1000}) must be shorter than beat.leaseSeconds (${leaseMs / 1000}), or the lease lapses between renewals.`,
    );
  const schedule = { ...o.beatSchedule };
  for (const [name, entry] of Object.entries(schedule)) validateEntry(name, entry);
  const store = b.store ?? defaultStore(config);
  return {
    store,
    storeIsBroker: store !== null && isRedis(store) && store === config.brokerUrl,
    leaseMs,
    renewMs,
    maxTickMs: positive(b.maxTickSeconds, 1, 'maxTickSeconds') * 1000,
    skipGraceMs: positive(b.skipGraceSeconds, 2, 'skipGraceSeconds') * 1000,
    batchSize: Math.floor(positive(b.batchSize, 1000, 'batchSize')),
    schedule,
  };
}

function isRedis(url: string): boolean {
  const s = schemeOf(url);
  return s === 'redis' || s === 'rediss';
}

function defaultStore(c: ResolvedTaskQueueOptions): string | null {
  if (isRedis(c.brokerUrl)) return c.brokerUrl;
  if (isRedis(c.resultBackend)) return c.resultBackend;
  if (schemeOf(c.brokerUrl) === 'memory') return c.brokerUrl;
  return null;
}

/** The error for a setup with no shared place for schedules (RabbitMQ with the rpc:// backend). */
export function noStoreError(c: ResolvedTaskQueueOptions): ConfigurationError {
  return new ConfigurationError(
    `Periodic tasks need a store every replica shares, and broker ${maskUrl(c.brokerUrl)} with result backend ${maskUrl(c.resultBackend)} has none. ` +
      `Set the module option beat: { store: 'redis://host:6379/0' } (or use a Redis result backend).`,
  );
}

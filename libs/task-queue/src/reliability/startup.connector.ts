import { Logger } from '@nestjs/common';
import { Broker } from '../brokers/broker.interface';
import { ResultBackend } from '../backends/result-backend.interface';
import { BrokerAuthenticationError, BrokerPermissionError, BrokerUnavailableError } from '../errors';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { maskBrokerUrl, parseBrokerUrl } from '../transports/broker-url';
import { probeRedis } from '../transports/redis/redis.probe';
import { probeAmqp } from '../transports/amqp/amqp.probe';
import { parseSentinelUrl } from '../transports/redis/redis-sentinel.endpoint';

/** Longest pause between two start-up attempts (kombu's interval_max is 30 s too). */
export const STARTUP_RETRY_MAX_DELAY_MS = 30_000;

/** Pause before start-up attempt `n + 1` (n ≥ 1): 0.5 s doubling, capped at 30 s. */
export function startupRetryDelay(n: number): number {
  return Math.min(500 * 2 ** Math.min(n - 1, 16), STARTUP_RETRY_MAX_DELAY_MS);
}

/**
 * Connects the worker's broker and backend at start, the way Celery's worker does
 * (`broker_connection_retry_on_startup`, `broker_connection_max_retries`): each connection is
 * first probed with one short-lived connection, so that
 * - an unreachable server is waited for, with one log line per attempt and growing pauses;
 * - refused credentials or missing ACL rights stop the start at once (retrying cannot help);
 * then the broker's and backend's own connections are opened.
 */
export async function connectOnStartup(
  broker: Broker,
  backend: ResultBackend,
  config: ResolvedTaskQueueOptions,
  logger: Logger,
): Promise<void> {
  const probes = probesFor(config);
  const max = config.brokerConnectionMaxRetries;
  for (let attempt = 1; ; attempt++) {
    try {
      for (const p of probes) await p.run();
      break;
    } catch (err) {
      if (err instanceof BrokerAuthenticationError || err instanceof BrokerPermissionError) throw err;
      const what = ((err as Error).message ?? String(err)).replace(/[.\s]+$/, '');
      const where = probes.find((p) => p.failed)?.where ?? maskBrokerUrl(config.brokerUrl);
      if (!config.brokerConnectionRetryOnStartup) {
        throw new BrokerUnavailableError(
          `Cannot connect to ${where}: ${what}. brokerConnectionRetryOnStartup is false, so the worker does not wait for it.`,
        );
      }
      if (max && attempt > max) {
        throw new BrokerUnavailableError(
          `Cannot connect to ${where}: ${what}. Gave up after ${max} retries (brokerConnectionMaxRetries).`,
        );
      }
      const delay = startupRetryDelay(attempt);
      logger.warn(
        `Cannot connect to ${where}: ${what}. Trying again in ${(delay / 1000).toFixed(1)} s (${attempt}/${max || '∞'}).`,
      );
      await new Promise((r) => setTimeout(r, delay));
    } finally {
      for (const p of probes) p.failed = false;
    }
  }
  await Promise.all([broker.connect(), backend.connect()]);
}

interface Probe {
  where: string;
  failed: boolean;
  run(): Promise<void>;
}

/** One probe per distinct server the worker needs; a failover list succeeds when any entry does. */
function probesFor(config: ResolvedTaskQueueOptions): Probe[] {
  const timeoutMs = Math.max(1000, Math.min(config.publishTimeout, 10_000));
  const prefix = config.redis.keyPrefix;
  const urls = new Map<string, 'broker' | 'backend'>();
  urls.set(config.brokerUrl, 'broker');
  if (/^(rediss?|sentinel):/i.test(config.resultBackend) && !urls.has(config.resultBackend))
    urls.set(config.resultBackend, 'backend');
  const out: Probe[] = [];
  for (const [url, role] of urls) {
    const parsed = parseBrokerUrl(url, role === 'broker' ? 'brokerUrl' : 'resultBackend');
    const scheme = parsed.scheme;
    if (!['redis', 'rediss', 'sentinel', 'amqp', 'amqps'].includes(scheme)) continue;
    const probe: Probe = {
      where: maskBrokerUrl(url),
      failed: false,
      run: async () => {
        if (scheme === 'sentinel') {
          // One probe through the Sentinels: they name the master, which is then checked as any Redis.
          const s = parseSentinelUrl(url, config.redis);
          const entry = { ...parsed.entries[0], username: s.username, password: s.password, path: String(s.db) };
          const extra = {
            sentinels: s.sentinel.sentinels,
            name: s.sentinel.name,
            sentinelPassword: s.sentinel.sentinelPassword,
            sentinelUsername: s.sentinel.sentinelUsername,
            sentinelRetryStrategy: () => null,
          };
          try {
            return await probeRedis(entry, {
              tls: config.redis.tls,
              key: `${prefix}${config.worker.queues[0]}`,
              metaKey: `${prefix}celery-task-meta-probe`,
              timeoutMs,
              where: probe.where,
              extra,
            });
          } catch (err) {
            if (!(err instanceof BrokerAuthenticationError || err instanceof BrokerPermissionError))
              probe.failed = true;
            throw err;
          }
        }
        let last: unknown;
        for (const entry of parsed.entries) {
          try {
            if (scheme === 'amqp' || scheme === 'amqps') await probeAmqp(entry, timeoutMs);
            else
              await probeRedis(entry, {
                tls: config.redis.tls,
                key: `${prefix}${config.worker.queues[0]}`,
                metaKey: `${prefix}celery-task-meta-probe`,
                timeoutMs,
              });
            return;
          } catch (err) {
            if (err instanceof BrokerAuthenticationError || err instanceof BrokerPermissionError) throw err;
            last = err;
          }
        }
        probe.failed = true;
        throw last;
      },
    };
    out.push(probe);
  }
  return out;
}

import { hostname, platform, release } from 'node:os';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { maskUrl } from '../transports/url-mask';

/** The start-up banner, with what `celery worker` shows: node, broker, backend, queues, concurrency, tasks. */
export function workerBanner(
  config: ResolvedTaskQueueOptions,
  broker: string,
  backend: string,
  tasks: string[],
  version: string,
): string {
  const w = config.worker;
  const lines = [
    '',
    ` -------------- ${w.hostname} v${version} (Celery protocol v2)`,
    ` ---- **** ----- ${platform()}-${release()} node ${process.version} pid ${process.pid} on ${hostname()}`,
    ' -- [config]',
    ` -- .> transport:   ${maskUrl(broker)}`,
    ` -- .> results:     ${maskUrl(backend)}`,
    w.autoscale
      ? ` -- .> concurrency: {min=${w.autoscale.min}, max=${w.autoscale.max}} (autoscale, async, one event loop)`
      : ` -- .> concurrency: ${w.concurrency} (async, one event loop)`,
    ` -- .> prefetch:    ${w.autoscale ? 'slots' : w.concurrency * w.prefetchMultiplier} (concurrency × ${w.prefetchMultiplier})`,
    ' -- [queues]',
    ...w.queues.map((q) => ` -- .> ${q.padEnd(16)} exchange=${q}(direct) key=${q}`),
    '',
    '[tasks]',
    ...(tasks.length ? tasks.map((t) => `  . ${t}`) : ['  (none: decorate provider methods with @SharedTask)']),
    '',
  ];
  return lines.join('\n');
}

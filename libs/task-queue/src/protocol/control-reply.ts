import { toCeleryIso } from './iso-time';
import { pyFloat } from './control-message';
import type { TaskRequest } from './task-message';

/**
 * The reply shapes of Celery's remote-control commands (celery-wire.md 9), as a Python worker sends
 * them: `celery inspect` and Flower read these fields by name.
 */

export function okReply(text: string): { ok: string } {
  return { ok: text };
}

export function errorReply(text: string): { error: string } {
  return { error: text };
}

/** An unknown command: Python's `KeyError('<name>')`. */
export function unknownCommandReply(method: string): { error: string } {
  return errorReply(`KeyError('${method}')`);
}

/** A command that threw: `<Name>('<message>')`. */
export function commandFailedReply(err: Error): { error: string } {
  return errorReply(`${err.name}('${err.message}')`);
}

/** `add_consumer`: Celery answers before the consumer starts; ours once it consumes. */
export function addConsumerReply(queue: string): { ok: string } {
  return okReply(`add consumer ${queue}`);
}

/** `cancel_consumer`. */
export function cancelConsumerReply(queue: string): { ok: string } {
  return okReply(`no longer consuming from ${queue}`);
}

/** `pool_grow` / `pool_shrink` done. */
export function poolResizedReply(command: 'pool_grow' | 'pool_shrink'): { ok: string } {
  return okReply(command === 'pool_grow' ? 'pool will grow' : 'pool will shrink');
}

/** `pool_grow` / `pool_shrink` on a worker whose autoscaler owns the pool size. */
export function poolResizeWithAutoscaleReply(command: 'pool_grow' | 'pool_shrink'): { error: string } {
  return errorReply(`${command} is not supported with autoscale. Adjust autoscale range instead.`);
}

/** `autoscale` done: the bounds now. */
export function autoscaleReply(max: number, min: number): { ok: string } {
  return okReply(`autoscale now max=${max} min=${min}`);
}

/** `autoscale` on a worker without it: Celery raises `ValueError('Autoscale not enabled')`. */
export function autoscaleNotEnabledReply(): { error: string } {
  return errorReply("ValueError('Autoscale not enabled')");
}

/** `rate_limit` with a value that is not a rate; nothing is changed. */
export function invalidRateLimitReply(value: unknown, reason: string): { error: string } {
  return errorReply(`Invalid rate limit string: ${JSON.stringify(value) ?? String(value)} (${reason})`);
}

/** `time_limit` with a limit that is not seconds >= 0 or null; nothing is changed. */
export function invalidTimeLimitReply(name: 'soft' | 'hard', value: unknown): { error: string } {
  const shown = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return errorReply(`Invalid time limit: ${name}=${shown}; give seconds >= 0, or null for no limit.`);
}

/** A bad argument of any other command: what it was and what is expected. */
export function invalidArgumentReply(command: string, detail: string): { error: string } {
  return errorReply(`Invalid argument for ${command}: ${detail}`);
}

/** One task in `active`, `reserved` and `query_task` replies (Celery's `Request.info()`). */
export function requestInfoReply(
  r: TaskRequest,
  hostname: string,
  routingKey: string,
  startedAt: number | null,
  pid: number,
): Record<string, unknown> {
  return {
    id: r.id,
    name: r.task,
    args: r.args,
    kwargs: r.kwargs,
    type: r.task,
    hostname,
    time_start: startedAt,
    acknowledged: false,
    delivery_info: { exchange: '', routing_key: routingKey, priority: r.priority, redelivered: null },
    worker_pid: startedAt === null ? null : pid,
  };
}

/** One task in the `scheduled` reply. */
export function scheduledReply(r: TaskRequest, request: Record<string, unknown>): Record<string, unknown> {
  return { eta: r.eta ? toCeleryIso(r.eta) : null, priority: r.priority, request };
}

/** The `revoke`/`terminate` reply. */
export function revokedReply(taskIds: string[], terminate: boolean): { ok: string } {
  const list = taskIds.join(', ');
  return okReply(terminate ? `terminate: tasks ${list} flagged as revoked` : `tasks ${list} flagged as revoked`);
}

/** The `hello` reply: revoked ids with their time as a Python float, and the clock. */
export function helloReply(revoked: Record<string, number>, clock: number): Record<string, unknown> {
  return { revoked: Object.fromEntries(Object.entries(revoked).map(([k, v]) => [k, pyFloat(v)])), clock };
}

/** One queue in the `active_queues` reply: kombu's `Queue.as_dict()` of a direct queue. */
export function queueInfoReply(name: string): Record<string, unknown> {
  return {
    name,
    exchange: {
      name,
      type: 'direct',
      arguments: null,
      durable: true,
      passive: false,
      auto_delete: false,
      delivery_mode: null,
      no_declare: false,
    },
    routing_key: name,
    queue_arguments: null,
    binding_arguments: null,
    consumer_arguments: null,
    durable: true,
    exclusive: false,
    auto_delete: false,
    no_ack: false,
    alias: null,
    bindings: [],
    no_declare: null,
    expires: null,
    message_ttl: null,
    max_length: null,
    max_length_bytes: null,
    max_priority: null,
  };
}

/** The `broker` part of the `stats` reply (kombu's `Connection.info()`); `scheme` is the URL's transport. */
export function brokerInfoReply(url: string, scheme: string, localHostname: string): Record<string, unknown> {
  let u: URL | null = null;
  try {
    u = new URL(url);
  } catch {
    /* memory:// and odd URLs */
  }
  return {
    hostname: u?.hostname || localHostname,
    userid: u?.username || null,
    virtual_host: u ? decodeURIComponent(u.pathname.replace(/^\//, '')) || '/' : '/',
    port: u?.port ? Number(u.port) : null,
    insist: false,
    ssl: /^(rediss|amqps)$/.test(scheme),
    transport: scheme,
    connect_timeout: 4,
    transport_options: {},
    login_method: null,
    uri_prefix: null,
    heartbeat: 120.0,
    failover_strategy: 'round-robin',
    alternates: [],
  };
}

/** What `stats` reports; the caller measures it. */
export interface StatsFacts {
  total: Record<string, number>;
  pid: number;
  clock: number;
  uptimeSeconds: number;
  concurrency: number;
  prefetchCount: number;
  broker: Record<string, unknown>;
  usage: NodeJS.ResourceUsage;
  /** With autoscale on: Celery's `Autoscaler.info()`. */
  autoscaler?: { max: number; min: number; current: number; qty: number };
}

/** The `stats` reply. */
export function statsReply(f: StatsFacts): Record<string, unknown> {
  const usage = f.usage;
  return {
    total: f.total,
    pid: f.pid,
    clock: String(f.clock),
    uptime: f.uptimeSeconds,
    pool: {
      'max-concurrency': f.concurrency,
      processes: [f.pid],
      'max-tasks-per-child': null,
      'put-guarded-by-semaphore': false,
      timeouts: [],
      implementation: 'nest-celery:async',
    },
    broker: f.broker,
    prefetch_count: f.prefetchCount,
    ...(f.autoscaler ? { autoscaler: f.autoscaler } : {}),
    rusage: {
      utime: usage.userCPUTime / 1e6,
      stime: usage.systemCPUTime / 1e6,
      maxrss: usage.maxRSS,
      minflt: usage.minorPageFault,
      majflt: usage.majorPageFault,
      nvcsw: usage.voluntaryContextSwitches,
      nivcsw: usage.involuntaryContextSwitches,
    },
  };
}

/** What `conf` reports (Celery's setting names; URLs already masked). */
export interface ConfFacts {
  brokerUrl: string;
  resultBackend: string;
  defaultQueue: string;
  resultExpires: unknown;
  concurrency: number;
  prefetchMultiplier: number;
  trackStarted: boolean;
}

/** The `conf` reply. */
export function confReply(c: ConfFacts): Record<string, unknown> {
  return {
    broker_url: c.brokerUrl,
    result_backend: c.resultBackend,
    task_default_queue: c.defaultQueue,
    result_expires: c.resultExpires,
    worker_concurrency: c.concurrency,
    worker_prefetch_multiplier: c.prefetchMultiplier,
    task_track_started: c.trackStarted,
  };
}

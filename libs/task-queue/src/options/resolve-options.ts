import { availableParallelism, hostname, cpus } from 'node:os';
import { ConfigurationError } from '../errors';
import { TaskQueueModuleOptions } from './task-queue-options';
import { ResolvedTaskQueueOptions } from './resolved-options';
import { WorkerPoolOptions, ResolvedPoolOptions } from './pool-options';
import { AutoscaleOptions } from './worker-options';
import {
  AMQP_DEFAULTS,
  POOL_DEFAULTS,
  REDIS_DEFAULTS,
  TASK_QUEUE_DEFAULTS,
  AUTOSCALE_DEFAULTS,
  WORKER_DEFAULTS,
} from './task-queue.defaults';

/** Applies every default (task-queue.defaults.ts) and checks what cannot work. */
export function resolveOptions(o: TaskQueueModuleOptions = {}): ResolvedTaskQueueOptions {
  const brokerUrl = o.brokerUrl || TASK_QUEUE_DEFAULTS.brokerUrl;
  const defaultQueue = o.defaultQueue || TASK_QUEUE_DEFAULTS.defaultQueue;
  if (o.taskSerializer && o.taskSerializer !== 'json') {
    throw new ConfigurationError(
      `taskSerializer "${o.taskSerializer}" is not supported: only "json" is (it is Celery's default).`,
    );
  }
  const w = o.worker ?? {};
  const concurrency = w.concurrency ?? WORKER_DEFAULTS.concurrency(cpus().length);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigurationError(`worker.concurrency must be a whole number >= 1, got ${concurrency}.`);
  }
  return {
    brokerUrl,
    resultBackend: o.resultBackend || defaultBackendFor(brokerUrl),
    defaultQueue,
    acceptContent: o.acceptContent ?? [...TASK_QUEUE_DEFAULTS.acceptContent],
    taskSerializer: 'json',
    resultExpires: o.resultExpires ?? TASK_QUEUE_DEFAULTS.resultExpires,
    trackStarted: o.trackStarted ?? TASK_QUEUE_DEFAULTS.trackStarted,
    taskDefaults: { ...o.taskDefaults },
    delayInBroker: o.delayInBroker ?? TASK_QUEUE_DEFAULTS.delayInBroker,
    publishTimeout: o.publishTimeout ?? TASK_QUEUE_DEFAULTS.publishTimeout,
    brokerConnectionRetryOnStartup:
      o.brokerConnectionRetryOnStartup ?? TASK_QUEUE_DEFAULTS.brokerConnectionRetryOnStartup,
    brokerConnectionMaxRetries:
      o.brokerConnectionMaxRetries === undefined
        ? TASK_QUEUE_DEFAULTS.brokerConnectionMaxRetries
        : (o.brokerConnectionMaxRetries ?? 0),
    redis: {
      visibilityTimeout: o.redis?.visibilityTimeout ?? REDIS_DEFAULTS.visibilityTimeout,
      restoreInterval: o.redis?.restoreInterval ?? REDIS_DEFAULTS.restoreInterval,
      unackedMutexExpire: o.redis?.unackedMutexExpire ?? REDIS_DEFAULTS.unackedMutexExpire,
      keyPrefix: o.redis?.keyPrefix ?? REDIS_DEFAULTS.keyPrefix,
      blockTimeout: o.redis?.blockTimeout ?? REDIS_DEFAULTS.blockTimeout,
      reconnectMaxDelay: o.redis?.reconnectMaxDelay ?? REDIS_DEFAULTS.reconnectMaxDelay,
      waitReplicas: o.redis?.waitReplicas ?? REDIS_DEFAULTS.waitReplicas,
      tls: o.redis?.tls,
      masterName: o.redis?.masterName,
      sentinelPassword: o.redis?.sentinelPassword,
      sentinelUsername: o.redis?.sentinelUsername,
    },
    amqp: {
      ...o.amqp,
      queueType: o.amqp?.queueType ?? AMQP_DEFAULTS.queueType,
      consumerTimeout: o.amqp?.consumerTimeout ?? AMQP_DEFAULTS.consumerTimeout,
      reconnectDelay: o.amqp?.reconnectDelay ?? AMQP_DEFAULTS.reconnectDelay,
      reconnectMaxDelay: o.amqp?.reconnectMaxDelay ?? AMQP_DEFAULTS.reconnectMaxDelay,
      rpcResultCacheSize: o.amqp?.rpcResultCacheSize ?? AMQP_DEFAULTS.rpcResultCacheSize,
      controlQueueExclusive: o.amqp?.controlQueueExclusive ?? AMQP_DEFAULTS.controlQueueExclusive,
      controlQueueDurable: o.amqp?.controlQueueDurable ?? AMQP_DEFAULTS.controlQueueDurable,
      eventQueueExclusive: o.amqp?.eventQueueExclusive ?? AMQP_DEFAULTS.eventQueueExclusive,
      eventQueueDurable: o.amqp?.eventQueueDurable ?? AMQP_DEFAULTS.eventQueueDurable,
    },
    worker: {
      queues: w.queues?.length ? w.queues : [defaultQueue],
      concurrency,
      prefetchMultiplier: w.prefetchMultiplier ?? WORKER_DEFAULTS.prefetchMultiplier,
      hostname: w.hostname ?? WORKER_DEFAULTS.hostname(hostname()),
      shutdownTimeout: w.shutdownTimeout ?? WORKER_DEFAULTS.shutdownTimeout,
      handleSignals: w.handleSignals ?? WORKER_DEFAULTS.handleSignals,
      stateDb: w.stateDb ?? WORKER_DEFAULTS.stateDb,
      sendTaskEvents: w.sendTaskEvents ?? WORKER_DEFAULTS.sendTaskEvents,
      beat: w.beat ?? WORKER_DEFAULTS.beat,
      autoscale: resolveAutoscale(w.autoscale),
      ...resolvePoolOptions(w),
    },
  };
}

/** Celery's default backend: the broker itself for Redis and memory, `rpc://` for AMQP. */
function defaultBackendFor(brokerUrl: string): string {
  return /^amqps?:/i.test(brokerUrl) ? 'rpc://' : brokerUrl;
}

/** The pool's defaults applied, its values checked. */
export function resolvePoolOptions(o: WorkerPoolOptions): ResolvedPoolOptions {
  const out: ResolvedPoolOptions = {
    pool: o.pool ?? POOL_DEFAULTS.pool,
    poolSize: o.poolSize ?? POOL_DEFAULTS.poolSize(availableParallelism()),
    maxTasksPerChild: o.maxTasksPerChild ?? POOL_DEFAULTS.maxTasksPerChild,
    maxMemoryPerChild: o.maxMemoryPerChild ?? POOL_DEFAULTS.maxMemoryPerChild,
    maxHeapPerChild: o.maxHeapPerChild ?? POOL_DEFAULTS.maxHeapPerChild,
    poolIdleTimeout: o.poolIdleTimeout ?? POOL_DEFAULTS.poolIdleTimeout,
    poolModule: o.poolModule ?? POOL_DEFAULTS.poolModule,
  };
  if (out.pool !== 'threads' && out.pool !== 'processes') {
    throw new ConfigurationError(`worker.pool must be 'threads' or 'processes', got '${String(out.pool)}'.`);
  }
  if (!Number.isInteger(out.poolSize) || out.poolSize < 1)
    throw new ConfigurationError(`worker.poolSize must be a whole number >= 1, got ${out.poolSize}.`);
  for (const key of ['maxTasksPerChild', 'maxMemoryPerChild', 'maxHeapPerChild', 'poolIdleTimeout'] as const) {
    if (!Number.isFinite(out[key]) || out[key] < 0)
      throw new ConfigurationError(`worker.${key} must be a number >= 0 (0 turns it off), got ${out[key]}.`);
  }
  return out;
}

/** `worker.autoscale` with its defaults, checked: whole numbers, 0 <= min <= max, max >= 1. */
export function resolveAutoscale(a: AutoscaleOptions | null | undefined): Required<AutoscaleOptions> | null {
  if (a === undefined || a === null) return WORKER_DEFAULTS.autoscale;
  const out = {
    max: a.max,
    min: a.min ?? AUTOSCALE_DEFAULTS.min,
    keepalive: a.keepalive ?? AUTOSCALE_DEFAULTS.keepalive,
  };
  if (!Number.isInteger(out.max) || out.max < 1)
    throw new ConfigurationError(`worker.autoscale.max must be a whole number >= 1, got ${out.max}.`);
  if (!Number.isInteger(out.min) || out.min < 0 || out.min > out.max)
    throw new ConfigurationError(
      `worker.autoscale.min must be a whole number from 0 to max (${out.max}), got ${out.min}.`,
    );
  if (!Number.isFinite(out.keepalive) || out.keepalive < 0)
    throw new ConfigurationError(`worker.autoscale.keepalive must be seconds >= 0, got ${out.keepalive}.`);
  return out;
}

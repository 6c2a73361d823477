/**
 * Every default of the module's options, in one place (the option types document each one with
 * `@defaultValue`; `resolveOptions` applies these). Celery's defaults unless a comment says otherwise.
 */
export const TASK_QUEUE_DEFAULTS = {
  brokerUrl: 'memory://',
  defaultQueue: 'celery',
  acceptContent: ['json'] as readonly string[],
  resultExpires: 86_400,
  trackStarted: false,
  delayInBroker: true,
  publishTimeout: 10_000,
  brokerConnectionRetryOnStartup: true,
  brokerConnectionMaxRetries: 100,
} as const;

export const REDIS_DEFAULTS = {
  visibilityTimeout: 3600,
  restoreInterval: 60,
  unackedMutexExpire: 300,
  keyPrefix: '',
  blockTimeout: 1,
  reconnectMaxDelay: 2000,
  waitReplicas: 0,
} as const;

export const AMQP_DEFAULTS = {
  queueType: 'classic' as 'classic' | 'quorum',
  /** RabbitMQ's own `consumer_timeout` (30 min). */
  consumerTimeout: 1_800_000,
  reconnectDelay: 100,
  reconnectMaxDelay: 5000,
  rpcResultCacheSize: 10_000,
  /** Celery 5.7's defaults: exclusive, transient control and event queues, which RabbitMQ 4.x accepts. */
  controlQueueExclusive: true,
  controlQueueDurable: false,
  eventQueueExclusive: true,
  eventQueueDurable: false,
};

export const WORKER_DEFAULTS = {
  /** Async tasks share one event loop, so a slot is cheap: CPUs × 4, at least 4. */
  concurrency: (cpuCount: number): number => Math.max(4, cpuCount * 4),
  prefetchMultiplier: 4,
  /** Celery's node name: `celery@<hostname>`. */
  hostname: (host: string): string => `celery@${host}`,
  shutdownTimeout: 30,
  handleSignals: true,
  stateDb: '',
  sendTaskEvents: false,
  beat: false,
  /** Autoscale is off unless `worker.autoscale` is set. */
  autoscale: null,
} as const;

/** `worker.autoscale`'s defaults when it is set: Celery's min 0 and AUTOSCALE_KEEPALIVE. */
export const AUTOSCALE_DEFAULTS = {
  min: 0,
  keepalive: 30,
} as const;

/** The pool for `cpu: true` tasks (pool/): prefork-like child processes, one per CPU, replaced never. */
export const POOL_DEFAULTS = {
  pool: 'processes' as 'threads' | 'processes',
  poolSize: (cpuCount: number): number => cpuCount,
  maxTasksPerChild: 0,
  maxMemoryPerChild: 0,
  maxHeapPerChild: 0,
  poolIdleTimeout: 300,
  poolModule: '',
};

/** Celery's task execution defaults (its `Task` class attributes), for options neither the task nor `taskDefaults` set. */
export const TASK_EXECUTION_DEFAULTS = {
  ignoreResult: false,
  storeErrorsEvenIfIgnored: false,
  trackStarted: false,
  maxRetries: 3 as number | null,
  defaultRetryDelay: 180,
  autoretryFor: [],
  dontAutoretryFor: [],
  retryBackoff: false as boolean | number,
  retryBackoffMax: 600,
  retryJitter: true,
  acksLate: true,
  rejectOnWorkerLost: true,
};

/** Health checks (`nestjs-celery/health`, the dashboard's `/healthz`). */
export const HEALTH_DEFAULTS = {
  /** Ms a broker or backend round trip may take before the check reads as down (a k8s probe's own timeout is 1 s by default). */
  timeoutMs: 1000,
  /** Seconds to collect `active_queues` replies for the workers check (Celery's inspect default). */
  workersTimeout: 1,
  /** Workers that must consume the queue. */
  minWorkers: 1,
} as const;

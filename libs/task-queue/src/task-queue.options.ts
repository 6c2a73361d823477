import { hostname, cpus } from 'node:os';
import { ConfigurationError } from './errors';
import { TaskExecutionOptions } from './interfaces/shared-task-options.interface';

/**
 * Every option of TaskQueueModule, with Celery's name in camelCase and its default.
 * Celery's setting name is in brackets where it differs.
 */
export interface TaskQueueModuleOptions {
  /** Broker URL: `memory://[name]`, `redis://[user:pass@]host:port/db`, `rediss://…`, `amqp://user:pass@host:port/vhost`, `amqps://…`. Default `memory://`. [broker_url] */
  brokerUrl?: string;
  /** Result backend URL: `memory://[name]`, `redis://…`, `rediss://…`, `rpc://`. Default: the broker URL for memory and Redis brokers, `rpc://` for AMQP. [result_backend] */
  resultBackend?: string;
  /** Queue for tasks that name none. Default `celery`. [task_default_queue] */
  defaultQueue?: string;
  /** Content types the worker accepts. Only JSON is implemented. Default `['json']`. [accept_content] */
  acceptContent?: string[];
  /** Serializer for task messages. Only `json`. Default `json`. [task_serializer] */
  taskSerializer?: 'json';
  /** Seconds a stored result is kept; 0 keeps it forever. Default 86400 (1 day). [result_expires] */
  resultExpires?: number;
  /** Store STARTED when a task starts, for every task (a task's own option wins). Default false. [task_track_started] */
  trackStarted?: boolean;
  /** Execution options for every task; a task's own @SharedTask options win. Defaults: see TaskExecutionOptions. */
  taskDefaults?: TaskExecutionOptions;
  /**
   * Hold countdown/eta messages in the broker until due (true), or put them on the queue at once and
   * let the consuming worker hold them, as Celery does (false). Set false when the queues you send to
   * with a countdown are consumed only by Python workers, which do not read our delayed store.
   * Per call: `delayIn`. Default true.
   */
  delayInBroker?: boolean;
  /** Milliseconds a publish may wait for an unreachable broker before it fails with BrokerUnavailableError. Default 10000. */
  publishTimeout?: number;
  /** Options for the Redis transport. */
  redis?: RedisTransportOptions;
  /** Options for the AMQP transport. */
  amqp?: AmqpTransportOptions;
  /** Options read only by the worker (TaskQueueServer). */
  worker?: WorkerOptions;
  /** Periodic entries declared in code, by name (Celery's `beat_schedule`). Default `{}`. See docs/periodic-tasks.md. */
  beatSchedule?: Record<string, import('./beat/beat.options').BeatEntry>;
  /** Options of the periodic-task scheduler (store, lease). Defaults: see BeatOptions. */
  beat?: import('./beat/beat.options').BeatOptions;
}

export interface WorkerOptions {
  /** Queues this worker consumes. Default `[defaultQueue]`. [-Q] */
  queues?: string[];
  /**
   * Task methods run at once by this worker process (async tasks share one event loop). A slot is
   * freed when the method settles; storing its state, workflow steps, hooks and the ack follow
   * outside the slot, still bounded by the prefetch (with acksLate off, inside it). Default: the
   * number of CPUs × 4, at least 4. [worker_concurrency]
   */
  concurrency?: number;
  /** Deliveries reserved per concurrency slot: the prefetch bound is concurrency × this. Default 4. [worker_prefetch_multiplier] */
  prefetchMultiplier?: number;
  /** Node name shown to Celery's tools. Default `celery@<hostname>`. [-n] */
  hostname?: string;
  /** Seconds a warm shutdown waits for running tasks before it gives their messages back. Default 30. */
  shutdownTimeout?: number;
  /** Install SIGTERM/SIGINT handlers: first signal warm shutdown, second cold. Default true. */
  handleSignals?: boolean;
  /** Send task-* monitoring events (worker-* events are always sent). Default false. [-E, worker_send_task_events] */
  sendTaskEvents?: boolean;
  /** File where the revoked-task set is kept across restarts; empty keeps it in memory only. Default ''. [--statedb] */
  stateDb?: string;
  /** Run a periodic-task scheduler in this process (`celery worker -B`); safe on every replica, one leads. Default false. */
  beat?: boolean;
}

export interface RedisTransportOptions {
  /** Seconds before a delivered, unacked message is restored to its queue. Default 3600. [visibility_timeout] */
  visibilityTimeout?: number;
  /** Seconds between checks for messages to restore. Default 60. */
  restoreInterval?: number;
  /** Prefix for every key and channel. Default `''`. [global_keyprefix] */
  keyPrefix?: string;
  /**
   * Seconds an idle consumer blocks in one wait before it looks at every queue again. The wait wakes
   * at once for the base list of the queue it watches; messages in other queues or priority buckets
   * are seen within this bound (kombu's BRPOP uses 1 s too). Default 1.
   */
  blockTimeout?: number;
  /** Longest pause in milliseconds between reconnect attempts (backoff starts at 100 ms and doubles). Default 2000. */
  reconnectMaxDelay?: number;
  /**
   * TLS options for `rediss://` URLs (Node's tls.connect options: `ca`, `cert`, `key`, `servername`,
   * `rejectUnauthorized`…). Default: Node's defaults (the system CAs; the certificate must match the host).
   */
  tls?: import('node:tls').ConnectionOptions;
}

export interface AmqpTransportOptions {
  /** Declare task queues with `x-max-priority` set to this (1–255). Default: no priority. [task_queue_max_priority] */
  maxPriority?: number;
  /** `classic` or `quorum`. Default `classic`. [task_default_queue_type] */
  queueType?: 'classic' | 'quorum';
  /** Seconds between AMQP heartbeats. Default 60 (amqplib's default). [broker_heartbeat] */
  heartbeat?: number;
  /** The server's `consumer_timeout` in milliseconds, used only to warn about longer task time limits (Celery #6760). Default 1800000 (RabbitMQ's 30 min). */
  consumerTimeout?: number;
  /** Milliseconds before the first reconnect attempt; doubles on each failure. Default 100. [broker_connection_retry] */
  reconnectDelay?: number;
  /** Upper bound in milliseconds of the delay between reconnect attempts. Default 5000. */
  reconnectMaxDelay?: number;
  /** Task states the rpc:// backend keeps in memory for get() (oldest dropped first). Default 10000. */
  rpcResultCacheSize?: number;
}

/** Options with every default applied. The rest of the library reads only this. */
export interface ResolvedTaskQueueOptions {
  brokerUrl: string;
  resultBackend: string;
  defaultQueue: string;
  acceptContent: string[];
  taskSerializer: 'json';
  resultExpires: number;
  trackStarted: boolean;
  taskDefaults: TaskExecutionOptions;
  delayInBroker: boolean;
  publishTimeout: number;
  redis: Required<Omit<RedisTransportOptions, 'tls'>> & Pick<RedisTransportOptions, 'tls'>;
  amqp: AmqpTransportOptions & { queueType: 'classic' | 'quorum' };
  worker: Required<WorkerOptions>;
}

export function resolveOptions(o: TaskQueueModuleOptions = {}): ResolvedTaskQueueOptions {
  const brokerUrl = o.brokerUrl || 'memory://';
  const defaultQueue = o.defaultQueue || 'celery';
  if (o.taskSerializer && o.taskSerializer !== 'json') {
    throw new ConfigurationError(`taskSerializer "${o.taskSerializer}" is not supported: only "json" is (it is Celery's default).`);
  }
  const w = o.worker ?? {};
  const concurrency = w.concurrency ?? Math.max(4, cpus().length * 4);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigurationError(`worker.concurrency must be a whole number >= 1, got ${concurrency}.`);
  }
  return {
    brokerUrl,
    resultBackend: o.resultBackend || defaultBackendFor(brokerUrl),
    defaultQueue,
    acceptContent: o.acceptContent ?? ['json'],
    taskSerializer: 'json',
    resultExpires: o.resultExpires ?? 86_400,
    trackStarted: o.trackStarted ?? false,
    taskDefaults: { ...o.taskDefaults },
    delayInBroker: o.delayInBroker ?? true,
    publishTimeout: o.publishTimeout ?? 10_000,
    redis: {
      visibilityTimeout: o.redis?.visibilityTimeout ?? 3600,
      restoreInterval: o.redis?.restoreInterval ?? 60,
      keyPrefix: o.redis?.keyPrefix ?? '',
      blockTimeout: o.redis?.blockTimeout ?? 1,
      reconnectMaxDelay: o.redis?.reconnectMaxDelay ?? 2000,
      tls: o.redis?.tls,
    },
    amqp: {
      ...o.amqp,
      queueType: o.amqp?.queueType ?? 'classic',
      consumerTimeout: o.amqp?.consumerTimeout ?? 1_800_000,
      reconnectDelay: o.amqp?.reconnectDelay ?? 100,
      reconnectMaxDelay: o.amqp?.reconnectMaxDelay ?? 5000,
      rpcResultCacheSize: o.amqp?.rpcResultCacheSize ?? 10_000,
    },
    worker: {
      queues: w.queues?.length ? w.queues : [defaultQueue],
      concurrency,
      prefetchMultiplier: w.prefetchMultiplier ?? 4,
      hostname: w.hostname ?? `celery@${hostname()}`,
      shutdownTimeout: w.shutdownTimeout ?? 30,
      handleSignals: w.handleSignals ?? true,
      stateDb: w.stateDb ?? '',
      sendTaskEvents: w.sendTaskEvents ?? false,
      beat: w.beat ?? false,
    },
  };
}

function defaultBackendFor(brokerUrl: string): string {
  return /^amqps?:/i.test(brokerUrl) ? 'rpc://' : brokerUrl;
}

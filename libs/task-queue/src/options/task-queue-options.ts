import { TaskExecutionOptions } from './shared-task-options';
import { RedisTransportOptions } from './redis-options';
import { AmqpTransportOptions } from './amqp-options';
import { WorkerOptions } from './worker-options';
import type { BeatEntry, BeatOptions } from './beat-options';

/**
 * Every option of TaskQueueModule, with Celery's name in camelCase and its default.
 * Celery's setting name is in brackets where it differs.
 */
export interface TaskQueueModuleOptions {
  /**
   * Broker URL: `memory://[name]`, `redis://[user:pass@]host:port/db`, `rediss://…`, `amqp://user:pass@host:port/vhost`, `amqps://…`. Default `memory://`. [broker_url]
   * @defaultValue `memory://`
   */
  brokerUrl?: string;
  /**
   * Result backend URL: `memory://[name]`, `redis://…`, `rediss://…`, `rpc://`. Default: the broker URL for memory and Redis brokers, `rpc://` for AMQP. [result_backend]
   * @defaultValue the broker URL for memory and Redis brokers, `rpc://` for AMQP
   */
  resultBackend?: string;
  /**
   * Queue for tasks that name none. Default `celery`. [task_default_queue]
   * @defaultValue `celery`
   */
  defaultQueue?: string;
  /**
   * Content types the worker accepts. Only JSON is implemented. Default `['json']`. [accept_content]
   * @defaultValue `['json']`
   */
  acceptContent?: string[];
  /**
   * Serializer for task messages. Only `json`. Default `json`. [task_serializer]
   * @defaultValue `json`
   */
  taskSerializer?: 'json';
  /**
   * Seconds a stored result is kept; 0 keeps it forever. Default 86400 (1 day). [result_expires]
   * @defaultValue 86400 (1 day)
   */
  resultExpires?: number;
  /**
   * Store STARTED when a task starts, for every task (a task's own option wins). Default false. [task_track_started]
   * @defaultValue false
   */
  trackStarted?: boolean;
  /**
   * Execution options for every task; a task's own @SharedTask options win. Defaults: see TaskExecutionOptions.
   * @defaultValue see TaskExecutionOptions
   */
  taskDefaults?: TaskExecutionOptions;
  /**
   * Hold countdown/eta messages in the broker until due (true), or put them on the queue at once and
   * let the consuming worker hold them, as Celery does (false). Set false when the queues you send to
   * with a countdown are consumed only by Python workers, which do not read our delayed store.
   * Per call: `delayIn`. Default true.
   * @defaultValue true
   */
  delayInBroker?: boolean;
  /**
   * Milliseconds a publish may wait for an unreachable broker before it fails with BrokerUnavailableError. Default 10000.
   * @defaultValue 10000
   */
  publishTimeout?: number;
  /**
   * At worker start, wait for an unreachable broker/backend (one log line per attempt, pauses from
   * 0.5 s doubling to 30 s) instead of stopping. Refused credentials or missing ACL rights stop at
   * once either way. [broker_connection_retry_on_startup]
   * @defaultValue true
   */
  brokerConnectionRetryOnStartup?: boolean;
  /**
   * Start-up attempts before the worker gives up; 0 or null retries forever. [broker_connection_max_retries]
   * @defaultValue 100
   */
  brokerConnectionMaxRetries?: number | null;
  /**
   * Options for the Redis transport.
   * @defaultValue `{}` (each field's own default)
   */
  redis?: RedisTransportOptions;
  /**
   * Options for the AMQP transport.
   * @defaultValue `{}` (each field's own default)
   */
  amqp?: AmqpTransportOptions;
  /**
   * Options read only by the worker (TaskQueueServer).
   * @defaultValue `{}` (each field's own default)
   */
  worker?: WorkerOptions;
  /**
   * Periodic entries declared in code, by name (Celery's `beat_schedule`). See docs/periodic-tasks.md.
   * @defaultValue `{}`
   */
  beatSchedule?: Record<string, BeatEntry>;
  /**
   * Options of the periodic-task scheduler (store, lease). Defaults: see BeatOptions.
   * @defaultValue `{}` (each field's own default)
   */
  beat?: BeatOptions;
}

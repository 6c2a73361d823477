import { TaskQueueModuleOptions } from './options/task-queue-options';
import { poolOptionsFromEnv } from './pool/pool.env';
import { ConfigurationError } from './errors';
import { AutoscaleOptions } from './options/worker-options';

/**
 * Module options from `TASKQUEUE_*` environment variables, shared by the example apps and the CLI:
 * TASKQUEUE_BROKER_URL, TASKQUEUE_RESULT_BACKEND, TASKQUEUE_DEFAULT_QUEUE, TASKQUEUE_QUEUES
 * (comma-separated), TASKQUEUE_CONCURRENCY, TASKQUEUE_HOSTNAME, TASKQUEUE_BEAT (`true` runs a periodic-task scheduler),
 * TASKQUEUE_SEND_TASK_EVENTS (`true`: Celery's `-E`, task-* events for monitors), TASKQUEUE_AUTOSCALE (`max,min`: Celery's `--autoscale`),
 * TASKQUEUE_BROKER_CONNECTION_MAX_RETRIES, TASKQUEUE_BROKER_CONNECTION_RETRY_ON_STARTUP. The pool's: pool/pool.env.ts.
 * Unset variables keep the defaults.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): TaskQueueModuleOptions {
  const queues = env.TASKQUEUE_QUEUES?.split(',')
    .map((q) => q.trim())
    .filter(Boolean);
  const concurrency = env.TASKQUEUE_CONCURRENCY ? Number(env.TASKQUEUE_CONCURRENCY) : undefined;
  return {
    brokerUrl: env.TASKQUEUE_BROKER_URL || undefined,
    resultBackend: env.TASKQUEUE_RESULT_BACKEND || undefined,
    brokerConnectionMaxRetries: env.TASKQUEUE_BROKER_CONNECTION_MAX_RETRIES
      ? Number(env.TASKQUEUE_BROKER_CONNECTION_MAX_RETRIES)
      : undefined,
    brokerConnectionRetryOnStartup: env.TASKQUEUE_BROKER_CONNECTION_RETRY_ON_STARTUP
      ? !/^(0|false|no)$/i.test(env.TASKQUEUE_BROKER_CONNECTION_RETRY_ON_STARTUP)
      : undefined,
    defaultQueue: env.TASKQUEUE_DEFAULT_QUEUE || undefined,
    worker: {
      queues: queues?.length ? queues : undefined,
      concurrency,
      hostname: env.TASKQUEUE_HOSTNAME || undefined,
      beat: env.TASKQUEUE_BEAT === 'true' || undefined,
      sendTaskEvents: env.TASKQUEUE_SEND_TASK_EVENTS
        ? /^(1|true|yes|on)$/i.test(env.TASKQUEUE_SEND_TASK_EVENTS)
        : undefined,
      autoscale: autoscaleFromEnv(env.TASKQUEUE_AUTOSCALE),
      ...poolOptionsFromEnv(env),
    },
  };
}

/** `TASKQUEUE_AUTOSCALE=max[,min]`, as Celery's `--autoscale=10,3`. */
function autoscaleFromEnv(value: string | undefined): AutoscaleOptions | undefined {
  if (!value) return undefined;
  const m = /^\s*(\d+)\s*(?:,\s*(\d+)\s*)?$/.exec(value);
  if (!m) throw new ConfigurationError(`TASKQUEUE_AUTOSCALE must be max[,min] (e.g. 10,3), got '${value}'.`);
  return { max: Number(m[1]), min: m[2] === undefined ? undefined : Number(m[2]) };
}

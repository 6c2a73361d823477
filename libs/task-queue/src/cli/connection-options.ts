import { ConfigurationError } from '../errors';
import { TaskQueueModuleOptions } from '../options/task-queue-options';
import { TASK_QUEUE_DEFAULTS } from '../options/task-queue.defaults';
import { optionsFromEnv } from '../task-queue.env';

/** Flags every command shares; each falls back to its TASKQUEUE_* variable, then to the default. */
export interface ConnectionFlags {
  broker?: string;
  backend?: string;
}

/**
 * Module options for a command that talks to a broker: the `TASKQUEUE_*` variables with the flags on
 * top. With no broker at all the module would pick `memory://`, which lives inside this one process:
 * nothing could consume what taskq sends or answer what it asks, so taskq refuses instead of
 * printing an id nobody will ever run. An explicit `--broker memory://` is still accepted.
 */
export function connectionOptions(flags: ConnectionFlags, env = process.env): TaskQueueModuleOptions {
  const fromEnv = optionsFromEnv(env);
  const brokerUrl = flags.broker ?? fromEnv.brokerUrl;
  if (!brokerUrl)
    throw new ConfigurationError(
      'no broker given: set TASKQUEUE_BROKER_URL or pass --broker <url> (e.g. redis://localhost:6379/0). ' +
        'Without one taskq would use memory://, which nothing outside this process can reach.',
    );
  return { ...fromEnv, brokerUrl, resultBackend: flags.backend ?? fromEnv.resultBackend };
}

/** The default queue as configured by TASKQUEUE_DEFAULT_QUEUE, else Celery's `celery`: the default of every -Q. */
export function configuredDefaultQueue(env = process.env): string {
  return optionsFromEnv(env).defaultQueue ?? TASK_QUEUE_DEFAULTS.defaultQueue;
}

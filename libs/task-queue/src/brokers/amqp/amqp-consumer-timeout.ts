/** RabbitMQ's default `consumer_timeout`: 30 minutes, in milliseconds. */
export const RABBITMQ_DEFAULT_CONSUMER_TIMEOUT_MS = 1_800_000;

/**
 * RabbitMQ closes a channel whose delivery stays unacked longer than `consumer_timeout`
 * (PRECONDITION_FAILED "delivery acknowledgement timed out"), and every delivery of that channel is
 * redelivered (Celery issue #6760). A task that may run longer than that, or an ETA task held
 * unacked, will loop. Returns a warning to log, or null when `taskSeconds` fits.
 */
export function checkConsumerTimeout(
  taskSeconds: number | null | undefined,
  consumerTimeoutMs: number = RABBITMQ_DEFAULT_CONSUMER_TIMEOUT_MS,
  what = 'A task',
): string | null {
  if (taskSeconds === null || taskSeconds === undefined || !Number.isFinite(taskSeconds)) return null;
  if (consumerTimeoutMs <= 0 || taskSeconds * 1000 <= consumerTimeoutMs) return null;
  const limit = consumerTimeoutMs / 1000;
  return (
    `${what} may stay unacked for ${taskSeconds} s, longer than RabbitMQ's consumer_timeout of ${limit} s: ` +
    'RabbitMQ would close the channel and redeliver the message (Celery #6760). Raise consumer_timeout in ' +
    'rabbitmq.conf (and amqp.consumerTimeout to match), or lower the time limit.'
  );
}

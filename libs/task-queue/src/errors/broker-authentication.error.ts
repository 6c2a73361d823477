import { TaskQueueError } from './task-queue.error';

/**
 * The broker or result backend refused the credentials (Redis WRONGPASS/NOAUTH, AMQP 403
 * ACCESS_REFUSED). Retrying cannot help, so the worker stops at once with this error.
 */
export class BrokerAuthenticationError extends TaskQueueError {
  constructor(
    readonly user: string,
    readonly where: string,
    reason: string,
  ) {
    super(
      `Authentication failed for user ${user} at ${where}: ${reason}. Check the user name and password in the URL (percent-encoded).`,
    );
  }
}

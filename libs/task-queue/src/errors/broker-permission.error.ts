import { TaskQueueError } from './task-queue.error';

/**
 * The broker user lacks permissions the library needs (a Redis ACL without LPUSH, EVALSHA…, an AMQP
 * user without access to the vhost). Found at start, so the worker refuses to run rather than fail
 * on the first task.
 */
export class BrokerPermissionError extends TaskQueueError {
  constructor(
    readonly user: string,
    readonly where: string,
    readonly missing: string[],
    hint: string,
  ) {
    super(`User ${user} at ${where} lacks permissions the task queue needs: ${missing.join(', ')}. ${hint}`);
  }
}

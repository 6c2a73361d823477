import { TaskQueueError } from './task-queue.error';

/** The task was revoked (or expired, or terminated); the reason is Celery's word for it. */
export class TaskRevokedError extends TaskQueueError {
  readonly excModule = 'celery.exceptions';
  constructor(readonly reason: 'revoked' | 'expired' | 'terminated') {
    super(reason);
    this.excMessage = [reason];
  }
  readonly excMessage: unknown[];
}

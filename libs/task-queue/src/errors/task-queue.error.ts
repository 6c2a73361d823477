/**
 * The error tree, drawn once:
 *
 * TaskQueueError                     every error this library throws
 * ├── ConfigurationError             bad options: unknown URL scheme, missing driver
 * ├── DuplicateTaskError             two @SharedTask methods with one name (at boot)
 * ├── TaskDefinitionError            a task that cannot be registered (request-scoped provider, …)
 * ├── NotRegisteredError             a message for a task name this worker does not know
 * ├── SerializationError             arguments or results that JSON cannot carry faithfully
 * ├── InvalidTaskMessageError        a message that is not a Celery task message (dead-lettered)
 * │   └── ContentDisallowedError     a content type that is not accepted
 * ├── TaskTimeoutError               AsyncResult.get() waited longer than its timeout
 * ├── TaskFailedError                the remote task failed; carries excType, excMessage, traceback
 * ├── BrokerUnavailableError         the broker (or a shared transport) could not be reached within the bound
 * │   └── ResultBackendUnavailableError  the result backend could not be reached, or is closed
 * ├── RetryError                     thrown by ctx.retry(): end this run, run again later
 * ├── MaxRetriesExceededError        a retry after the last allowed one
 * ├── SoftTimeLimitExceededError     the soft time limit passed (the AbortSignal's reason)
 * ├── TimeLimitExceededError         the hard time limit passed (stored as FAILURE)
 * ├── TaskRevokedError               revoked, expired or terminated (stored as REVOKED)
 * ├── ChordError                     a chord's body cannot run: a header part failed, or it timed out
 * ├── Reject                         thrown by a task: give the message back or dead-letter it
 * ├── Ignore                         thrown by a task: ack, store nothing
 * └── WorkerLostError                the pool worker running the task died (exit code, signal, OOM)
 */
export class TaskQueueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

import { RedisKeys } from '../brokers/redis/redis-keys';
import { toEnvelope } from '../brokers/kombu/kombu-envelope';
import { TaskPublisher } from '../publish/task.publisher';
import { ORIGIN, TaskMessage, buildTaskMessage } from '../protocol/task-message';
import { BrokerPush, StoredEntry } from './beat.store';
import { slotTaskId } from './slot-id';

/** The header django-celery-beat sets on what it sends; Celery merges it into the v2 headers. */
export const PERIODIC_TASK_HEADER = 'periodic_task_name';

/**
 * Builds an entry's messages with the library's own message builder and routing (the code
 * TaskClient uses), then either hands them to the client's publisher, or, when the store is the
 * broker's Redis, lays them out as kombu envelopes for the store's atomic send script.
 */
export class BeatPublisher {
  constructor(
    private readonly publisher: TaskPublisher,
    private readonly replyTo: string,
    private readonly redisKeys: RedisKeys | null,
  ) {}

  /** The queue of an entry: its `options.queue`, else the task's own, else the default queue. */
  queueOf(stored: StoredEntry): string {
    return this.publisher.queueFor(stored.entry.task, stored.entry.options?.queue);
  }

  /** One Celery v2 task message per slot; the task id is the slot's UUID v5, the same on every replica. */
  messages(stored: StoredEntry, slots: readonly number[], now: Date): TaskMessage[] {
    const e = stored.entry;
    const o = e.options ?? {};
    return slots.map((slot) =>
      buildTaskMessage(
        e.task,
        e.args ?? [],
        e.kwargs ?? {},
        {
          taskId: slotTaskId(stored.name, slot),
          queue: o.queue,
          expires: o.expires,
          priority: o.priority,
          timeLimit: o.timeLimit,
          softTimeLimit: o.softTimeLimit,
          ignoreResult: o.ignoreResult,
          shadow: o.shadow,
          headers: { ...o.headers, [PERIODIC_TASK_HEADER]: stored.name },
        },
        { replyTo: this.replyTo, origin: ORIGIN, now },
      ),
    );
  }

  /** The envelopes for the send script (Redis broker = store only), as the Redis broker would push them. */
  push(queue: string, messages: readonly TaskMessage[]): BrokerPush | undefined {
    if (!this.redisKeys || !messages.length) return undefined;
    return {
      list: this.redisKeys.bucket(queue, messages[0].properties.priority),
      bindingKey: this.redisKeys.binding(queue),
      bindingMember: RedisKeys.bindingMember(queue, queue),
      envelopes: messages.map((m) => JSON.stringify(toEnvelope(m, '', queue))),
    };
  }

  /** Publishes through the client's publisher (memory broker, RabbitMQ, a Redis broker that is not the store). */
  publish(queue: string, messages: readonly TaskMessage[]): Promise<void> {
    return this.publisher.publishMany(queue, messages);
  }
}

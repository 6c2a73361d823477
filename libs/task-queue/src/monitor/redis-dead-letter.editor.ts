import type Redis from 'ioredis';
import { deadLetterQueueOf } from '../brokers/broker.interface';
import { messageOf } from '../brokers/kombu/kombu-envelope';
import { RedisKeys } from '../brokers/redis/redis-keys';

/** Removes one dead letter (by task id) from a queue's dead-letter list on Redis, for "requeue" and "delete". */
export class RedisDeadLetterEditor {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.keys = new RedisKeys(keyPrefix);
  }

  /** True when an entry of that task was found and removed (LREM of the exact item: a concurrent edit cannot remove another). */
  async remove(queue: string, taskId: string): Promise<boolean> {
    const key = this.keys.list(deadLetterQueueOf(queue));
    for (const item of await this.redis.lrange(key, 0, 999)) {
      let id: unknown = null;
      try {
        const rec = JSON.parse(item) as { envelope?: Parameters<typeof messageOf>[0] };
        id = rec.envelope ? messageOf(rec.envelope).headers.id : null;
      } catch {
        continue;
      }
      if (id === taskId) return (await this.redis.lrem(key, 1, item)) === 1;
    }
    return false;
  }
}

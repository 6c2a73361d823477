import Redis from 'ioredis';
import { RedisHistoryStore } from 'nestjs-celery/internal/monitor/redis-history.store';
import { deletePrefix } from '../support/redis-test.helpers';
import { REDIS_HOST, REDIS_PORT, suiteDb } from '../support/test-env';
import { uniqueName } from '../support/wait';

/** The Redis history's bound: trim on write keeps `maxTasks` tasks and deletes the hashes of the dropped ones. */
describe('RedisHistoryStore: bounded on write (Redis)', () => {
  const prefix = `${uniqueName('dash-history')}:`;
  let r: Redis;

  beforeAll(() => {
    r = new Redis({ host: REDIS_HOST, port: REDIS_PORT, db: suiteDb('dashboard') });
  });

  afterAll(async () => {
    await deletePrefix(r, prefix);
    r.disconnect();
  });

  it('keeps the newest maxTasks tasks, with their hashes and a TTL, and nothing of the others', async () => {
    const store = new RedisHistoryStore(r, prefix, { maxTasks: 3, ttlSeconds: 600, maxField: 100 });
    for (let i = 1; i <= 5; i++) {
      await store.record({
        type: 'task-received',
        hostname: 'w@h',
        timestamp: i,
        uuid: `t${i}`,
        name: 'tasks.add',
        args: `(${i},)`,
      });
      await store.record({
        type: 'task-succeeded',
        hostname: 'w@h',
        timestamp: i + 0.5,
        uuid: `t${i}`,
        result: String(i),
      });
    }
    expect(await store.size()).toBe(3);
    expect((await store.list({})).map((t) => t.id)).toEqual(['t5', 't4', 't3']);
    expect(await r.exists(`${prefix}task:t1`, `${prefix}task:t2`)).toBe(0);
    expect(await r.ttl(`${prefix}task:t5`)).toBeGreaterThan(500);
    expect(await store.get('t4')).toMatchObject({ state: 'SUCCESS', args: '(4,)', result: '4' });
  });
});

import Redis from 'ioredis';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { deleteResults, inspector, queueKeys } from '../support/redis-test.helpers';
import { REDIS_PORT, suiteDb, suiteRedisUrl } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';
import { BlackholeProxy } from './support/blackhole.proxy';
import { RELIABILITY_PORTS } from './support/private-servers';

/**
 * The blocking-wait watchdog: the worker reaches Redis through a proxy that turns its connections
 * into zombies (no bytes, no FIN/RST), as after a failover to another host. Its idle consumer's
 * BLMOVE never returns; the watchdog must rebuild the connections so that a task sent afterwards
 * (straight to Redis, not through the proxy) still runs.
 */
describe('Redis: a blocking wait on a dead connection is rebuilt', () => {
  const db = suiteDb('reliability');
  const direct = suiteRedisUrl('reliability');
  const queue = uniqueName('watchdog');
  const proxy = new BlackholeProxy(REDIS_PORT);
  const ids: string[] = [];
  let worker: RunningWorker | undefined;
  let client: RunningClient | undefined;
  let r: Redis;

  beforeAll(async () => {
    r = inspector(db);
    await proxy.listen(RELIABILITY_PORTS.watchdogProxy);
  });
  afterAll(async () => {
    // Zombies that are left (the pattern subscriber's connection is not watched: it idles without
    // a timeout) are closed first, so the worker closes over live connections.
    proxy.dropZombies();
    await client?.close();
    await worker?.close();
    await proxy.close();
    await deleteResults(r, ids);
    await r.del(...queueKeys(queue));
    await r.quit();
  });

  it('the idle consumer gets no answer past its timeout, reconnects, and runs the next task', async () => {
    const viaProxy = `redis://127.0.0.1:${RELIABILITY_PORTS.watchdogProxy}/${db}`;
    worker = await startWorker(
      {
        brokerUrl: viaProxy,
        resultBackend: direct,
        defaultQueue: queue,
        redis: { blockTimeout: 1 },
        worker: { queues: [queue], concurrency: 2 },
      },
      { imports: [TasksModule] },
    );
    client = await startClient({ brokerUrl: direct, resultBackend: direct, defaultQueue: queue });
    const first = await client.client.sendTask('tasks.add', [1, 2]);
    ids.push(first.id);
    expect(await first.get({ timeout: 20_000 })).toBe(3);

    proxy.blackhole();
    const zombies = proxy.connections.dead;
    expect(zombies).toBeGreaterThan(0);
    // The rebuilt connections are new, forwarded ones.
    await waitFor(() => proxy.connections.open > proxy.connections.dead, 'new connections through the proxy', 30_000);
    const second = await client.client.sendTask('tasks.add', [20, 22]);
    ids.push(second.id);
    expect(await second.get({ timeout: 30_000 })).toBe(42);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { BrokerUnavailableError } from 'nestjs-celery';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { inspector } from '../support/redis-test.helpers';
import { runPythonJson, startPythonWorker } from '../support/python-celery';
import { suiteDb } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';
import { PrivateServer, RELIABILITY_PORTS, startRedisServer, startSentinel } from './support/private-servers';
import { RecordModule, failoverFigures, runs } from './support/record.tasks';

/**
 * Redis Sentinel failover under load: a master, a replica and three Sentinels on private ports;
 * 2,000 tasks go through our worker over `sentinel://…?master_name=…`; the master is SIGKILLed
 * during the load. Worker and client go on without a restart. The client publishes with
 * `redis.waitReplicas: 1`, so a task reported as sent is on the replica too: none may be lost.
 * Duplicates (at-least-once) are counted and printed, with the time to resume.
 */
describe('Redis Sentinel: failover under load', () => {
  const TOTAL = Number(process.env.TASKQUEUE_TEST_SENTINEL_TASKS ?? (process.env.CI === 'true' ? 500 : 2000));
  const KILL_AT = Math.floor(TOTAL / 4);
  const NAME = 'tqrelmaster';
  const P = RELIABILITY_PORTS;
  const url = `${P.sentinels.map((p) => `sentinel://127.0.0.1:${p}`).join(';')}/0?master_name=${NAME}`;
  const queue = uniqueName('sentinel');
  const dir = mkdtempSync(join(tmpdir(), 'tq-sentinel-'));
  const servers: PrivateServer[] = [];
  let master: PrivateServer;
  let worker: RunningWorker | undefined;
  let client: RunningClient | undefined;

  beforeAll(async () => {
    runs.key = `${queue}:runs`;
    runs.redis = inspector(suiteDb('reliability'));
    master = await startRedisServer(P.sentinelMaster);
    servers.push(
      master,
      await startRedisServer(P.sentinelReplica, ['--replicaof', '127.0.0.1', String(P.sentinelMaster)]),
    );
    for (const port of P.sentinels) servers.push(await startSentinel(port, dir, NAME, P.sentinelMaster));
    const s = new Redis({ port: P.sentinels[0], host: '127.0.0.1' });
    try {
      await waitFor(
        async () => {
          const replicas = (await s.call('SENTINEL', 'REPLICAS', NAME)) as unknown[];
          const others = (await s.call('SENTINEL', 'SENTINELS', NAME)) as unknown[];
          return replicas.length === 1 && others.length === 2;
        },
        'the Sentinels to see the replica and each other',
        30_000,
      );
    } finally {
      s.disconnect();
    }
  });
  afterAll(async () => {
    await client?.close();
    await worker?.close();
    await runs.redis?.del(runs.key);
    await runs.redis?.quit();
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${TOTAL} tasks, master SIGKILLed after ${KILL_AT}: none lost, worker and client go on`, async () => {
    worker = await startWorker(
      { brokerUrl: url, defaultQueue: queue, worker: { queues: [queue], concurrency: 20 } },
      { imports: [RecordModule] },
    );
    client = await startClient({
      brokerUrl: url,
      defaultQueue: queue,
      publishTimeout: 30_000,
      redis: { waitReplicas: 1 },
    });
    const sentAt = new Map<number, number>();
    let publishRetries = 0;
    let killAt = 0;
    let next = 0;
    const publishOne = async (i: number) => {
      const taskId = `${queue}-${i}`;
      for (;;) {
        try {
          const started = Date.now();
          await client!.client.sendTask('reliability.record', [i], {}, { taskId });
          sentAt.set(i, started);
          return;
        } catch (err) {
          if (!(err instanceof BrokerUnavailableError)) throw err;
          publishRetries++; // the caller was told: it sends again (same id) a moment later, as an app would
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    const lane = async () => {
      while (next < TOTAL) {
        const i = next++;
        if (i === KILL_AT && !killAt) {
          killAt = Date.now();
          void master.stop('SIGKILL').then(async () => {
            // A supervisor restarts the dead master; the Sentinels turn it into a replica of the
            // new master, so that WAIT 1 can be satisfied again.
            await waitFor(
              async () => {
                const s = new Redis({ port: P.sentinels[0], host: '127.0.0.1' });
                try {
                  const addr = (await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as string[];
                  return Number(addr[1]) !== P.sentinelMaster;
                } finally {
                  s.disconnect();
                }
              },
              'the Sentinels to promote the replica',
              60_000,
            );
            servers.push(await startRedisServer(P.sentinelMaster));
          });
        }
        await publishOne(i);
      }
    };
    await Promise.all(Array.from({ length: 20 }, lane));
    const { lost, duplicated, resumeMs } = await failoverFigures(TOTAL, sentAt, killAt, 120_000);
    // The figures for docs/operations.md (printed, not asserted: no wall-clock bounds in tests).
    process.stdout.write(
      `[sentinel failover] tasks=${TOTAL} lost=${lost.length} duplicated=${duplicated} publishRetries=${publishRetries} resumeMs=${resumeMs}\n`,
    );
    expect(lost).toEqual([]);
    expect(Number.isFinite(resumeMs)).toBe(true);
  });

  it('Python Celery (kombu sentinel transport) shares the queues both ways', async () => {
    const pyUrl = P.sentinels.map((p) => `sentinel://127.0.0.1:${p}`).join(';');
    const env = { TQ_MASTER_NAME: NAME };
    worker ??= await startWorker(
      { brokerUrl: url, defaultQueue: queue, worker: { queues: [queue], concurrency: 20 } },
      { imports: [RecordModule] },
    );
    client ??= await startClient({ brokerUrl: url, defaultQueue: queue, publishTimeout: 30_000 });

    // Python client -> our worker, result read back by Python.
    const fromPython = await runPythonJson<number>(
      `import json\nfrom celery_sentinel_app import app\nr = app.send_task('reliability.record', args=[424242], queue=${JSON.stringify(queue)})\nprint(json.dumps(r.get(timeout=30)))`,
      { ...env, TQ_BROKER: pyUrl, TQ_BACKEND: pyUrl },
      60_000,
    );
    expect(fromPython).toBe(424242);

    // Our client -> a Python worker, result read back by us.
    const pyQueue = `${queue}-py`;
    const py = await startPythonWorker({
      app: 'celery_sentinel_app',
      broker: pyUrl,
      backend: pyUrl,
      queues: [pyQueue],
      hostname: `${pyQueue}@localhost`,
      env,
    });
    try {
      const result = await client.client.sendTask('py.add', [20, 22], {}, { queue: pyQueue });
      expect(await result.get({ timeout: 30_000 })).toBe(42);
    } finally {
      await py.stop();
    }
  });
});

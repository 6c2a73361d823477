import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerUnavailableError } from 'nestjs-celery';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { inspector } from '../support/redis-test.helpers';
import { suiteDb, suiteRedisUrl } from '../support/test-env';
import { uniqueName } from '../support/wait';
import { RabbitNode, startCluster } from './support/rabbitmq-cluster';
import { RecordModule, failoverFigures, runs } from './support/record.tasks';

/**
 * RabbitMQ HA: a three-node cluster on private ports, task queues declared as quorum queues,
 * worker and client given kombu's failover list `amqp://n1;amqp://n2;amqp://n3`. The node both are
 * connected to is killed mid-load (SIGKILL); they move to the next node by themselves. Publisher
 * confirms of a quorum queue mean a majority holds the message: none may be lost. Duplicates
 * (deliveries unacked when the node died) are counted and printed with the time to resume.
 * `TASKQUEUE_TEST_RABBIT_TASKS` sets the load (default 2,000, or 500 when CI=true: the full figures
 * are in docs/operations.md). Part of `npm test`; `npm run test:cluster` runs it alone.
 * `TASKQUEUE_TEST_RABBIT_PORT_BASE` moves the nodes' ports and names (two runs side by side).
 */
describe('RabbitMQ cluster: failover with quorum queues', () => {
  const TOTAL = Number(process.env.TASKQUEUE_TEST_RABBIT_TASKS ?? (process.env.CI === 'true' ? 500 : 2000));
  const KILL_AT = Math.floor(TOTAL / 4);
  const queue = uniqueName('rabbit-ha');
  const dir = mkdtempSync(join(tmpdir(), 'tq-rabbit-'));
  let nodes: RabbitNode[] = [];
  let worker: RunningWorker | undefined;
  let client: RunningClient | undefined;

  beforeAll(async () => {
    runs.key = `${queue}:runs`;
    runs.redis = inspector(suiteDb('reliability'));
    nodes = await startCluster(3, dir);
  }, 300_000);
  afterAll(async () => {
    await client?.close();
    await worker?.close();
    await runs.redis?.del(runs.key);
    await runs.redis?.quit();
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it(`${TOTAL} tasks on a quorum queue, the connected node SIGKILLed after ${KILL_AT}: none lost, both move on`, async () => {
    const url = nodes.map((n) => `amqp://guest:guest@127.0.0.1:${n.port}//`).join(';');
    const amqp = { queueType: 'quorum' as const, reconnectDelay: 100, reconnectMaxDelay: 1000 };
    const backend = suiteRedisUrl('reliability');
    worker = await startWorker(
      {
        brokerUrl: url,
        resultBackend: backend,
        defaultQueue: queue,
        amqp,
        worker: { queues: [queue], concurrency: 20 },
      },
      { imports: [RecordModule] },
    );
    client = await startClient({
      brokerUrl: url,
      resultBackend: backend,
      defaultQueue: queue,
      amqp,
      publishTimeout: 30_000,
    });
    const sentAt = new Map<number, number>();
    let publishRetries = 0;
    let killAt = 0;
    let next = 0;
    const publishOne = async (i: number) => {
      for (;;) {
        try {
          const started = Date.now();
          await client!.client.sendTask('reliability.record', [i], {}, { taskId: `${queue}-${i}`, ignoreResult: true });
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
          void nodes[0].kill();
        }
        await publishOne(i);
      }
    };
    await Promise.all(Array.from({ length: 20 }, lane));
    const { lost, duplicated, resumeMs } = await failoverFigures(TOTAL, sentAt, killAt, 180_000);
    process.stdout.write(
      `[rabbitmq failover] tasks=${TOTAL} lost=${lost.length} duplicated=${duplicated} publishRetries=${publishRetries} resumeMs=${resumeMs}\n`,
    );
    expect(lost).toEqual([]);
    expect(Number.isFinite(resumeMs)).toBe(true);
  }, 300_000);
});

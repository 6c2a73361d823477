import { AddressInfo, createServer } from 'node:net';
import { Controller, Get, INestApplication, Query } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import {
  RunningDashboard,
  startStandaloneDashboard,
  TaskClient,
  TaskQueueModule,
  TaskQueueModuleOptions,
} from 'nestjs-celery';
import { TaskQueueHealthIndicator, TaskQueueHealthModule } from 'nestjs-celery/health';
import { API_HEALTH_OPTIONS, ApiHealthOptions, HealthController } from '../../apps/api/src/health.controller';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningWorker, startWorker } from '../support/nest-apps';
import { createTestVhost, TestVhost } from '../support/rabbitmq';
import { deletePrefix, inspector, queueKeys, removeBindingsMentioning } from '../support/redis-test.helpers';
import { redisUrlFor, suiteDb } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';

/** Checks of one queue with thresholds from the query, to drive each check to up and down. */
@Controller('check')
class QueueCheckController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly taskQueue: TaskQueueHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(@Query('queue') queue: string, @Query('min') min = '1', @Query('max') max = '1000') {
    return this.health.check([
      () => this.taskQueue.hasWorkers('workers', { queue, min: Number(min) }),
      () => this.taskQueue.isBacklogUnder('backlog', { queue, max: Number(max) }),
    ]);
  }
}

/** A port nothing listens on: bound by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Health: the terminus indicator (`nestjs-celery/health`) behind apps/api's `GET /health`, each check up
 * and down, a broker on a closed port (503 naming it, no password), and the dashboard's `/healthz`
 * without terminus and without auth. Redis DB 14, shared (see test-env.ts): every queue and hostname is unique.
 */
describe('Health checks (Redis)', () => {
  const DB = suiteDb('health');
  const URL = redisUrlFor(DB);
  const run = uniqueName('health');
  const queue = `${run}-q`;
  const idle = `${run}-idle`; // no worker consumes it
  const host = `node-${run}@test`;
  const historyPrefix = `${run}:monitor:`;
  let r: Redis;
  let worker: RunningWorker;
  const apps: INestApplication[] = [];

  /** An HTTP app with TaskQueueModule, the health module, apps/api's HealthController and the test's controller. */
  async function healthApp(taskQueue: TaskQueueModuleOptions, health: ApiHealthOptions): Promise<string> {
    const moduleRef = await Test.createTestingModule({
      imports: [TaskQueueModule.forRoot({ ...taskQueue, isGlobal: true }), TaskQueueHealthModule],
      controllers: [HealthController, QueueCheckController],
      providers: [{ provide: API_HEALTH_OPTIONS, useValue: health }],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  }

  async function get(url: string): Promise<{ status: number; text: string; body: Record<string, any> }> {
    const res = await fetch(url);
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as Record<string, any> };
  }

  beforeAll(async () => {
    r = inspector(DB);
    worker = await startWorker(
      { brokerUrl: URL, resultBackend: URL, worker: { queues: [queue], hostname: host, sendTaskEvents: true } },
      { imports: [TasksModule] },
    );
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    await worker?.close();
    await deletePrefix(r, historyPrefix);
    await r.del(...queueKeys(queue), ...queueKeys(idle));
    await removeBindingsMentioning(r, [queue, idle, host]);
    r.disconnect();
  });

  describe('terminus indicator, apps/api GET /health', () => {
    let base: string;
    beforeAll(async () => {
      base = await healthApp(
        { brokerUrl: URL, resultBackend: URL, defaultQueue: queue },
        { minWorkers: 1, maxBacklog: 100 },
      );
    });

    it('healthy: 200 with broker, backend, workers and backlog up; the worker is named', async () => {
      const res = await get(`${base}/health`);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ok');
      expect(res.body.info).toMatchObject({
        broker: { status: 'up', transport: 'redis' },
        backend: { status: 'up', backend: 'redis' },
        workers: { status: 'up', queue, min: 1 },
        backlog: { status: 'up', queue, length: 0, max: 100 },
      });
      expect(res.body.info.workers.workers).toContain(host);
    });

    it('a queue no worker consumes: 503, the workers check down and saying why', async () => {
      const res = await get(`${base}/check?queue=${idle}&min=1`);
      expect(res.status).toBe(503);
      expect(res.body.error.workers).toMatchObject({ status: 'down', queue: idle, workers: [] });
      expect(res.body.error.workers.message).toMatch(/0 worker\(s\) consume queue/);
      expect(res.body.info.backlog).toMatchObject({ status: 'up' });
    });

    it('a backlog over the threshold: 503, the backlog check down with the length; at the threshold up', async () => {
      const client = apps[0].get(TaskClient);
      for (let i = 0; i < 3; i++) await client.sendTask('tasks.add', [i, 1], {}, { queue: idle });
      const over = await get(`${base}/check?queue=${idle}&min=0&max=2`);
      expect(over.status).toBe(503);
      expect(over.body.error.backlog).toMatchObject({ status: 'down', queue: idle, length: 3, max: 2 });
      expect(over.body.error.backlog.message).toMatch(/3 messages wait/);
      const at = await get(`${base}/check?queue=${idle}&min=0&max=3`);
      expect(at.status).toBe(200);
      expect(at.body.info.backlog).toMatchObject({ status: 'up', length: 3 });
      await r.del(...queueKeys(idle));
    });
  });

  it('broker and backend on a closed port: 503 naming both checks, with no password in the answer', async () => {
    const port = await closedPort();
    const down = `redis://:health-s3cret@127.0.0.1:${port}/0`;
    const base = await healthApp(
      { brokerUrl: down, resultBackend: down, defaultQueue: idle },
      { minWorkers: 0, maxBacklog: 100 },
    );
    const res = await get(`${base}/health`);
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('error');
    expect(res.body.error.broker).toMatchObject({ status: 'down', transport: 'redis' });
    expect(res.body.error.backend).toMatchObject({ status: 'down', backend: 'redis' });
    expect(res.body.error.broker.message).toEqual(expect.any(String));
    expect(res.text).not.toContain('health-s3cret');
  });

  describe('RabbitMQ broker, Redis results', () => {
    let vhost: TestVhost;
    beforeAll(async () => {
      vhost = await createTestVhost('health');
    });
    afterAll(async () => {
      // Our apps first: deleting a vhost with open connections would close them under the app.
      for (const app of apps.splice(0)) await app.close();
      await vhost?.delete();
    });

    it('healthy: the broker check up on amqp, the backlog read from RabbitMQ', async () => {
      const base = await healthApp(
        { brokerUrl: vhost.url, resultBackend: URL, defaultQueue: idle },
        { minWorkers: 0, maxBacklog: 100 },
      );
      const res = await get(`${base}/health`);
      expect(res.status).toBe(200);
      expect(res.body.info).toMatchObject({
        broker: { status: 'up', transport: 'amqp' },
        backend: { status: 'up', backend: 'redis' },
        backlog: { status: 'up', queue: idle, length: 0 },
      });
    });

    it('RabbitMQ on a closed port: 503 naming the broker check, with no password in the answer', async () => {
      const port = await closedPort();
      const base = await healthApp(
        {
          brokerUrl: `amqp://guest:amqp-s3cret@127.0.0.1:${port}/${vhost.name}`,
          resultBackend: URL,
          defaultQueue: idle,
        },
        { minWorkers: 0, maxBacklog: 100 },
      );
      const res = await get(`${base}/health`);
      expect(res.status).toBe(503);
      expect(res.body.error.broker).toMatchObject({ status: 'down', transport: 'amqp', message: expect.any(String) });
      expect(res.body.info.backend).toMatchObject({ status: 'up' });
      expect(res.text).not.toContain('amqp-s3cret');
    });
  });

  describe('the dashboard GET /healthz (no terminus, no auth)', () => {
    let dash: RunningDashboard;
    beforeAll(async () => {
      dash = await startStandaloneDashboard({
        taskQueue: { brokerUrl: URL, resultBackend: URL, defaultQueue: queue },
        port: 0,
        basicAuth: ['admin:health-s3cret'],
        monitor: { historyPrefix, queues: [queue], inspectIntervalSeconds: 1, queueIntervalSeconds: 1 },
      });
    }, 60_000);
    afterAll(async () => {
      await dash?.close();
    });

    it('answers 200 without credentials while the rest of the dashboard asks for them', async () => {
      expect((await fetch(`${dash.url}api/workers`)).status).toBe(401);
      const res = await get(`${dash.url}healthz`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'ok',
        broker: { status: 'up', transport: 'redis' },
        backend: { status: 'up', backend: 'redis' },
        workers: { status: 'up', online: expect.any(Number) },
      });
      expect(res.text).not.toContain('health-s3cret');
      expect(res.text).not.toContain('redis://');
    });

    it('?minWorkers=N: up once the worker is seen online, 503 while fewer are', async () => {
      const seen = await waitFor(async () => {
        const res = await get(`${dash.url}healthz?minWorkers=1`);
        return res.status === 200 ? res : null;
      }, 'the worker online in /healthz');
      expect(seen.body.workers).toMatchObject({ status: 'up', min: 1 });
      const many = await get(`${dash.url}healthz?minWorkers=100000`);
      expect(many.status).toBe(503);
      expect(many.body).toMatchObject({ status: 'error', workers: { status: 'down', min: 100000 } });
    });
  });
});

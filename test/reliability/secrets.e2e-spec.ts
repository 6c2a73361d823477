import { join } from 'node:path';
import Redis from 'ioredis';
import { BrokerUnavailableError, TaskControl, TaskQueueModuleOptions } from 'nestjs-celery';
import { startClient } from '../support/nest-apps';
import { NodeChild, ROOT, runNode, startNode } from '../support/node-process';
import { uniqueName } from '../support/wait';
import { PrivateServer, RELIABILITY_PORTS, startRedisServer } from './support/private-servers';

/**
 * No password reaches any output, in any form the library accepts or refuses: the worker's
 * stdout/stderr (banner, start-up errors), `taskq`'s output, the `inspect conf` reply, and the
 * messages of thrown errors. The Redis server (private port) has only an ACL user `alice` whose
 * password holds every reserved character.
 */
describe('Secrets: URL passwords never reach an output', () => {
  const PORT = RELIABILITY_PORTS.secretsRedis;
  const DEAD = RELIABILITY_PORTS.dead;
  const PW = 'Zq7/w0rd@Hx?#;k%';
  const ENC = encodeURIComponent(PW);
  const WRONG = 'Yv9/wr0ng@Pt';
  /** The password in every form, and fragments of it (a partial leak is a leak). */
  const NEEDLES = [PW, ENC, WRONG, encodeURIComponent(WRONG), 'Zq7', 'w0rd', 'Yv9', 'wr0ng'];
  const url = (pw: string, port = PORT, db = 0) => `redis://alice:${pw}@127.0.0.1:${port}/${db}`;
  const WORKER = join(ROOT, 'apps', 'worker', 'src', 'main.ts');
  const CLI = join(ROOT, 'libs', 'task-queue', 'src', 'cli', 'main.ts');
  const queue = uniqueName('secrets');
  let server: PrivateServer;
  let admin: Redis;

  const expectNoSecret = (text: string, where: string) => {
    const found = NEEDLES.filter((n) => text.includes(n));
    if (found.length) throw new Error(`${where} shows ${JSON.stringify(found)}:\n${text}`);
  };
  const runWorkerToExit = async (env: Record<string, string>): Promise<{ code: number | null; out: string }> => {
    const child: NodeChild = startNode(WORKER, [], { NO_COLOR: '1', TASKQUEUE_QUEUES: queue, ...env });
    const { code } = await child.exited;
    return { code, out: child.output() };
  };

  beforeAll(async () => {
    server = await startRedisServer(PORT, [
      '--user',
      'default',
      'off',
      '--user',
      'alice',
      'on',
      `>${PW}`,
      '~*',
      '&*',
      '+@all',
    ]);
    admin = new Redis({ port: PORT, host: '127.0.0.1', username: 'alice', password: PW, lazyConnect: true });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.quit().catch(() => undefined);
    await server?.stop();
  });

  it('a percent-encoded password works end to end; banner, logs, taskq and `inspect conf` show it masked', async () => {
    const worker = startNode(WORKER, [], {
      NO_COLOR: '1',
      TASKQUEUE_BROKER_URL: url(ENC),
      TASKQUEUE_RESULT_BACKEND: url(ENC, PORT, 1),
      TASKQUEUE_QUEUES: queue,
    });
    try {
      await worker.waitForOutput(/ready\./, 60_000);
      expect(worker.output()).toContain(`transport:   redis://alice:***@127.0.0.1:${PORT}/0`);

      const call = await runNode(
        CLI,
        ['call', 'tasks.add', '--args', '[2,3]', '--queue', queue, '--wait', '20'],
        { TASKQUEUE_BROKER_URL: url(ENC), TASKQUEUE_RESULT_BACKEND: url(ENC, PORT, 1) },
        90_000,
      );
      expect(JSON.parse(call.stdout)).toMatchObject({ state: 'SUCCESS', result: 5 });
      expectNoSecret(call.stdout + call.stderr, 'taskq call');

      const client = await startClient({ brokerUrl: url(ENC), resultBackend: url(ENC, PORT, 1) });
      try {
        const replies = await client.get(TaskControl).inspect('conf', {}, { timeout: 5 });
        const conf = JSON.stringify(replies);
        // `inspect conf` masks as Celery's maskpass does: `**`.
        expect(conf).toContain(`redis://alice:**@127.0.0.1:${PORT}/0`);
        expectNoSecret(conf, 'inspect conf');
      } finally {
        await client.close();
      }
    } finally {
      await worker.kill('SIGTERM');
    }
    expectNoSecret(worker.output(), 'the worker output');
  });

  it.each([
    ['a raw "/"', 'Zq7/w0rd'],
    ['a raw "@"', 'Zq7@w0rd'],
    ['raw "?" and "#"', 'Zq7?w0rd#x'],
  ])(
    'a password with %s: the worker refuses it, masked, saying to percent-encode, exit 1, no stack',
    async (_what, pw) => {
      const { code, out } = await runWorkerToExit({ TASKQUEUE_BROKER_URL: url(pw) });
      expect(code).toBe(1);
      expect(out).toContain('Percent-encode');
      expect(out).not.toMatch(/^\s+at /m);
      expectNoSecret(out, 'the worker output');
    },
  );

  it('taskq refuses a raw password, masked, and exits 1', async () => {
    const run = await runNode(
      CLI,
      ['call', 'tasks.add', '--args', '[1,1]', '--queue', queue],
      { TASKQUEUE_BROKER_URL: url(PW) },
      60_000,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Percent-encode');
    expectNoSecret(run.stdout + run.stderr, 'taskq');
  });

  it('a wrong password: "Authentication failed for user alice", exit 1, no retry loop, no stack', async () => {
    const { code, out } = await runWorkerToExit({ TASKQUEUE_BROKER_URL: url(encodeURIComponent(WRONG)) });
    expect(code).toBe(1);
    expect(out).toContain('Authentication failed for user alice');
    expect(out).not.toContain('Trying again');
    expect(out).not.toMatch(/^\s+at /m);
    expectNoSecret(out, 'the worker output');
  });

  it('a failover list (AMQP, nothing listening): the worker gives up, every entry masked', async () => {
    const list = `amqp://alice:${ENC}@127.0.0.1:${DEAD}//;amqp://alice:${encodeURIComponent(WRONG)}@127.0.0.1:${DEAD}/v`;
    const { code, out } = await runWorkerToExit({
      TASKQUEUE_BROKER_URL: list,
      TASKQUEUE_RESULT_BACKEND: url(ENC),
      TASKQUEUE_BROKER_CONNECTION_MAX_RETRIES: '1',
    });
    expect(code).toBe(1);
    expect(out).toContain(`amqp://alice:***@127.0.0.1:${DEAD}//;amqp://alice:***@127.0.0.1:${DEAD}/v`);
    expectNoSecret(out, 'the worker output');
  });

  it('a Sentinel list with master and Sentinel passwords (nothing listening): the worker gives up, all masked', async () => {
    const list = `sentinel://:${ENC}@127.0.0.1:${DEAD};sentinel://:${ENC}@127.0.0.1:${DEAD}/0?master_name=m&sentinel_password=${encodeURIComponent(WRONG)}`;
    const { code, out } = await runWorkerToExit({
      TASKQUEUE_BROKER_URL: list,
      TASKQUEUE_BROKER_CONNECTION_MAX_RETRIES: '1',
    });
    expect(code).toBe(1);
    expect(out).toContain(
      `sentinel://:***@127.0.0.1:${DEAD};sentinel://:***@127.0.0.1:${DEAD}/0?master_name=m&sentinel_password=***`,
    );
    expectNoSecret(out, 'the worker output');
  });

  it('thrown errors (publish and result read with the server unreachable) carry the URL masked', async () => {
    const options: TaskQueueModuleOptions = {
      brokerUrl: url(ENC, DEAD),
      resultBackend: url(ENC, DEAD, 1),
      publishTimeout: 300,
    };
    const client = await startClient(options);
    try {
      const sent = await client.client.sendTask('tasks.add', [1, 2]).then(
        () => null,
        (e: Error) => e,
      );
      expect(sent).toBeInstanceOf(BrokerUnavailableError);
      expect(sent!.message).toContain(`redis://alice:***@127.0.0.1:${DEAD}/0`);
      expectNoSecret(`${sent!.message}\n${sent!.stack}`, 'the publish error');
      const read = await client.client
        .asyncResult('00000000-0000-0000-0000-000000000000')
        .meta()
        .then(
          () => null,
          (e: Error) => e,
        );
      expect(read).toBeInstanceOf(Error);
      expectNoSecret(`${read!.message}\n${read!.stack}`, 'the result-read error');
    } finally {
      await client.close();
    }
  });
});

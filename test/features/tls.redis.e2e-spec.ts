import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerUnavailableError } from 'nestjs-celery';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { OutputWatcher } from '../support/output-watcher';
import { freePort } from '../support/redis-server';

describe('rediss:// (TLS) against a TLS redis-server started by the test', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskq-tls-'));
  let server: ChildProcess;
  let port: number;
  let worker: RunningWorker;
  let producer: RunningClient;

  beforeAll(async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=taskq-test-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    );
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    execFileSync('bash', ['-c', 'printf "subjectAltName=IP:127.0.0.1" > san.ext'], { cwd: dir });
    ssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'server.crt',
    );
    port = await freePort();
    server = spawn('redis-server', [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--tls-cert-file',
      join(dir, 'server.crt'),
      '--tls-key-file',
      join(dir, 'server.key'),
      '--tls-ca-cert-file',
      join(dir, 'ca.crt'),
      '--tls-auth-clients',
      'no',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ]);
    await new OutputWatcher(server, 'redis-server (TLS)').waitFor(/Ready to accept connections/, 20_000);
    const options = {
      brokerUrl: `rediss://127.0.0.1:${port}/0`,
      redis: { tls: { ca: readFileSync(join(dir, 'ca.crt')) } },
      publishTimeout: 5000,
    };
    worker = await startWorker(options, { imports: [TasksModule] });
    producer = await startClient(options);
  });

  afterAll(async () => {
    await producer?.close();
    await worker?.close();
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a task with broker and results over TLS, verified against the CA given in redis.tls', async () => {
    const result = await producer.client.sendTask('tasks.add', [2, 3]);
    expect(await result.get({ timeout: 20_000 })).toBe(5);
  });

  it('refuses a server whose certificate the CA does not vouch for, with a clear error', async () => {
    const other = await startClient({ brokerUrl: `rediss://127.0.0.1:${port}/0`, publishTimeout: 1500 });
    const err = await other.client.sendTask('tasks.add', [1, 1]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect((err as Error).message).toMatch(
      /was unreachable for 1500 ms .*self-signed certificate in certificate chain.*The task was not sent/,
    );
    await other.close();
  });
});

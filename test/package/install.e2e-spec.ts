/**
 * The published package, as a user gets it: `npm run package` builds the tarball, throwaway apps in a
 * temp dir outside the repository install it from the file with their own Nest and drivers from the
 * npm registry, compile with their own `tsc`, and run. The same app sources (test/package/app/src,
 * `.js` import suffixes as `nest new` writes them) serve every app:
 *
 * - Nest 11, CommonJS, ioredis 5, TypeScript 5.9: worker + api processes on Redis, taskq CLI, and
 *   `GET /health` through `nestjs-celery/health` with terminus 11;
 * - Nest 12, ESM (`"type": "module"`, `module: nodenext`), ioredis 6, TypeScript 6: the same, terminus 12;
 * - Nest 10, CommonJS, reflect-metadata 0.1, no ioredis: compiles, boots and runs a task on
 *   memory://, and fails at boot on redis:// (amqp://) saying `npm install ioredis` (`amqplib`).
 *
 * npm uses its default cache and `--prefer-offline`, so a rerun installs without the network.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Redis from 'ioredis';
import { ROOT } from '../support/node-process';
import { deleteResults, inspector, queueKeys, removeBindingsMentioning } from '../support/redis-test.helpers';
import { OutputWatcher } from '../support/output-watcher';
import { redisUrlFor, suiteDb } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';

const run = promisify(execFile);
const DB = suiteDb('packageInstall');
const APP_SRC = join(__dirname, 'app', 'src');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface AppSpec {
  name: string;
  type: 'commonjs' | 'module';
  deps: Record<string, string>;
  compilerOptions: Record<string, unknown>;
}

const COMMON_TS = {
  target: 'ES2022',
  declaration: false,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  strict: true,
  skipLibCheck: true,
  outDir: './dist',
  rootDir: './src',
};

const NEST11_CJS: AppSpec = {
  name: 'nest11-cjs',
  type: 'commonjs',
  deps: {
    '@nestjs/common': '11.2.10',
    '@nestjs/core': '11.2.10',
    '@nestjs/microservices': '11.2.6',
    '@nestjs/platform-express': '11.2.10',
    'reflect-metadata': '0.2.2',
    rxjs: '7.8.2',
    ioredis: '5.9.2',
    '@nestjs/terminus': '11.1.1',
    typescript: '5.9.3',
    '@types/node': '20.19.43',
  },
  compilerOptions: { ...COMMON_TS, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
};

const NEST12_ESM: AppSpec = {
  name: 'nest12-esm',
  type: 'module',
  deps: {
    '@nestjs/common': '12.5.1',
    '@nestjs/core': '12.5.1',
    '@nestjs/microservices': '12.1.1',
    '@nestjs/platform-express': '12.5.1',
    'reflect-metadata': '0.2.2',
    rxjs: '7.8.2',
    ioredis: '6.0.0',
    '@nestjs/terminus': '12.1.0',
    typescript: '6.0.3',
    '@types/node': '20.19.43',
  },
  compilerOptions: { ...COMMON_TS, module: 'nodenext', moduleResolution: 'nodenext', types: ['node'] },
};

const NEST10_CJS: AppSpec = {
  name: 'nest10-cjs',
  type: 'commonjs',
  deps: {
    '@nestjs/common': '10.4.9',
    '@nestjs/core': '10.4.9',
    '@nestjs/microservices': '10.4.9',
    '@nestjs/platform-express': '10.4.9',
    'reflect-metadata': '0.1.14',
    rxjs: '7.8.1',
    typescript: '5.9.3',
    '@types/node': '20.19.43',
  },
  // Nest 10 has no AsyncMicroserviceOptions (worker.ts): this app compiles the in-process boot only.
  compilerOptions: { ...COMMON_TS, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
};

describe('the npm package installed in fresh Nest apps', () => {
  let base: string;
  let tarball: string;
  const apps = new Map<string, string>();
  const children: ChildProcess[] = [];
  let r: Redis;
  const ids: string[] = [];
  const queues: string[] = [];
  const hostnames: string[] = [];

  beforeAll(async () => {
    r = inspector(DB);
    base = mkdtempSync(join(tmpdir(), 'nestjs-celery-package-'));
    await run('npm', ['run', 'package'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    const packed = readdirSync(join(ROOT, 'dist', 'pack')).filter((f) => f.endsWith('.tgz'));
    expect(packed).toHaveLength(1);
    tarball = join(ROOT, 'dist', 'pack', packed[0]);
    // One install at a time: the box is shared, and npm's cache serves the second one.
    for (const spec of [NEST11_CJS, NEST12_ESM, NEST10_CJS]) apps.set(spec.name, await createApp(spec));
  }, 600_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (r) {
      await deleteResults(r, ids);
      for (const q of queues) await r.del(...queueKeys(q));
      await removeBindingsMentioning(r, [...queues, ...hostnames]);
      await r.quit();
    }
    if (base) rmSync(base, { recursive: true, force: true });
  });

  async function createApp(spec: AppSpec): Promise<string> {
    const dir = join(base, spec.name);
    cpSync(APP_SRC, join(dir, 'src'), {
      recursive: true,
      filter: (f) => spec !== NEST10_CJS || !/(worker|api|api\.module|health\.controller)\.ts$/.test(f),
    });
    const pkg = {
      name: spec.name,
      private: true,
      type: spec.type,
      dependencies: { 'nestjs-celery': `file:${tarball}`, ...spec.deps },
    };
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: spec.compilerOptions, include: ['src'] }, null, 2),
    );
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
    });
    await run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: dir }).catch((err: { stdout?: string }) => {
      throw new Error(`${spec.name}: tsc failed:\n${err.stdout}`);
    });
    return dir;
  }

  function appEnv(queue: string, hostname: string): NodeJS.ProcessEnv {
    return {
      ...process.env,
      TASKQUEUE_BROKER_URL: redisUrlFor(DB),
      TASKQUEUE_DEFAULT_QUEUE: queue,
      TASKQUEUE_QUEUES: queue,
      TASKQUEUE_HOSTNAME: hostname,
      PORT: '0',
    };
  }

  function start(dir: string, file: string, env: NodeJS.ProcessEnv): { child: ChildProcess; out: OutputWatcher } {
    const child = spawn(process.execPath, [join(dir, 'dist', file)], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return { child, out: new OutputWatcher(child, `${dir}/${file}`) };
  }

  async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  }

  async function http(url: string, init?: { method: string; body: unknown }): Promise<Record<string, unknown>> {
    const res = await fetch(
      url,
      init && { method: init.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) },
    );
    expect(res.ok).toBe(true);
    return (await res.json()) as Record<string, unknown>;
  }

  for (const spec of [NEST11_CJS, NEST12_ESM]) {
    it(`${spec.name}: a worker and an api process run tasks over Redis, and npx taskq calls them`, async () => {
      const dir = apps.get(spec.name)!;
      const queue = uniqueName(`pkg-${spec.name}`);
      const hostname = uniqueName(`pkg-worker-${spec.name}`);
      queues.push(queue);
      hostnames.push(hostname);
      const env = appEnv(queue, hostname);
      const worker = start(dir, 'worker.js', env);
      const api = start(dir, 'api.js', env);
      await worker.out.waitFor(/worker ready/, 60_000);
      const url = (await api.out.waitFor(/api listening on (http:\/\/\S+)/, 60_000))[1].replace('[::1]', '127.0.0.1');

      // A task that uses an injected service.
      const sent = await http(`${url}/tasks`, { method: 'POST', body: { task: 'pkg.add', args: [2, 3] } });
      expect(sent.taskId).toMatch(UUID);
      ids.push(sent.taskId as string);
      expect(await http(`${url}/tasks/${sent.taskId}?wait=30`)).toEqual({
        id: sent.taskId,
        state: 'SUCCESS',
        result: 5,
      });

      // A task that throws: the HTTP answer carries the failure.
      const failing = await http(`${url}/tasks`, {
        method: 'POST',
        body: { task: 'pkg.fail', args: ['boom from the package test'] },
      });
      ids.push(failing.taskId as string);
      expect(await http(`${url}/tasks/${failing.taskId}?wait=30`)).toEqual({
        id: failing.taskId,
        state: 'FAILURE',
        error: { type: 'Error', message: ['boom from the package test'] },
      });

      // nestjs-celery/health (the subpath export) with the app's own terminus: broker, backend and our worker up.
      const health = await waitFor(
        async () => {
          const res = await fetch(`${url}/health`);
          return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
        },
        'GET /health to answer 200',
        30_000,
      );
      expect(health).toMatchObject({
        status: 'ok',
        info: { broker: { status: 'up' }, backend: { status: 'up' }, workers: { status: 'up' } },
      });

      // The CLI the package installs into node_modules/.bin.
      const cli = await run(
        'npx',
        ['taskq', 'call', 'pkg.add', '--args', '[20,22]', '--queue', queue, '--wait', '30'],
        { cwd: dir, env },
      );
      const printed = JSON.parse(cli.stdout) as Record<string, unknown>;
      ids.push(printed.id as string);
      expect(printed).toMatchObject({ state: 'SUCCESS', result: 42 });

      await stop(api.child);
      await stop(worker.child);
    }, 180_000);
  }

  it('nest10-cjs: compiles, boots and runs a task on memory://; on redis:// or amqp:// without the driver it says what to npm install', async () => {
    const dir = apps.get(NEST10_CJS.name)!;
    const ok = await run(process.execPath, [join(dir, 'dist', 'boot.js')], {
      cwd: dir,
      env: { ...process.env, TASKQUEUE_BROKER_URL: 'memory://pkg10' },
    });
    expect(JSON.parse(ok.stdout.trim().split('\n').pop()!)).toEqual({ result: 5 });

    const failed = await run(process.execPath, [join(dir, 'dist', 'boot.js')], {
      cwd: dir,
      env: { ...process.env, TASKQUEUE_BROKER_URL: redisUrlFor(DB) },
    }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('needs the "ioredis" package, which is not installed');
    expect(failed?.stderr).toContain('npm install ioredis');

    const noAmqp = await run(process.execPath, [join(dir, 'dist', 'boot.js')], {
      cwd: dir,
      env: {
        ...process.env,
        TASKQUEUE_BROKER_URL: 'amqp://guest:guest@127.0.0.1:5672//',
        TASKQUEUE_RESULT_BACKEND: 'memory://pkg10',
      },
    }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(noAmqp?.code).toBe(1);
    expect(noAmqp?.stderr).toContain('npm install amqplib');
  }, 120_000);
});

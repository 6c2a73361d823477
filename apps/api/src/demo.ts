/**
 * `npm run demo`: the api with a worker, and a few tasks sent through HTTP.
 *
 * - With no TASKQUEUE_BROKER_URL (or a memory:// one) it needs no server: the worker runs in this
 *   process, on the in-memory broker.
 * - With TASKQUEUE_BROKER_URL=redis://… or amqp://…, the worker runs as a separate process, as in production.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TaskQueueServer } from 'nestjs-celery';
import { ApiModule } from './api.module';
import { TasksModule } from '../../worker/src/tasks/tasks.module';

const broker = process.env.TASKQUEUE_BROKER_URL ?? 'memory://';
const inProcess = broker.startsWith('memory:');

@Module({ imports: [ApiModule, ...(inProcess ? [TasksModule] : [])] })
class DemoModule {}

async function main(): Promise<void> {
  let worker: ChildProcess | undefined;
  if (!inProcess) worker = await startWorkerProcess();

  const app = await NestFactory.create(DemoModule, { logger: ['error', 'warn'] });
  if (inProcess) {
    app.connectMicroservice({ strategy: app.get(TaskQueueServer) });
    await app.startAllMicroservices();
  }
  const base = await listen(app);
  console.log(
    `\napi on ${base}, broker ${broker}${inProcess ? ' (worker in this process)' : ' (worker in its own process)'}\n`,
  );

  const sends: Array<[string, unknown]> = [
    ['POST /tasks/my-task {"duration": 2}  (the seed task)', await post(`${base}/tasks/my-task`, { duration: 2 })],
    ['tasks.add(2, 3)', await post(`${base}/tasks`, { task: 'tasks.add', args: [2, 3] })],
    ['tasks.add(x=10, y=32)', await post(`${base}/tasks`, { task: 'tasks.add', kwargs: { x: 10, y: 32 } })],
    [
      'tasks.xsum([1..10])',
      await post(`${base}/tasks`, { task: 'tasks.xsum', args: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] }),
    ],
    ['tasks.fail("something broke")', await post(`${base}/tasks`, { task: 'tasks.fail', args: ['something broke'] })],
    ['tasks.sleep(1)', await post(`${base}/tasks`, { task: 'tasks.sleep', args: [1] })],
  ];
  for (const [label, body] of sends)
    console.log(`sent ${label.padEnd(52)} -> taskId ${(body as { taskId: string }).taskId}`);
  console.log('');
  await Promise.all(
    sends.map(async ([label, body]) => {
      const id = (body as { taskId: string }).taskId;
      const first = await get(`${base}/tasks/${id}`);
      const done = await get(`${base}/tasks/${id}?wait=30`);
      const error = done.error as { type: string; message: string } | undefined;
      const outcome =
        done.state === 'SUCCESS'
          ? JSON.stringify(done.result)
          : error
            ? `${error.type}: ${error.message}`
            : JSON.stringify(done.info ?? null);
      console.log(`${label.padEnd(52)} ${String(first.state).padEnd(8)} -> ${String(done.state).padEnd(8)} ${outcome}`);
    }),
  );

  console.log(`
The api keeps serving. Try it (Ctrl+C stops):
  curl -s -X POST ${base}/tasks/my-task -H 'content-type: application/json' -d '{"duration": 3}'
  curl -s -X POST ${base}/tasks -H 'content-type: application/json' -d '{"task": "tasks.mul", "args": [6, 7]}'
  curl -s ${base}/tasks/<taskId>            # state now
  curl -s '${base}/tasks/<taskId>?wait=10'  # wait up to 10 s for the result
`);
  const stop = async () => {
    const exited = worker ? new Promise((r) => worker!.once('exit', r)) : Promise.resolve();
    worker?.kill('SIGTERM');
    await Promise.all([app.close(), exited]);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function listen(app: Awaited<ReturnType<typeof NestFactory.create>>): Promise<string> {
  const wanted = Number(process.env.PORT ?? 3000);
  try {
    await app.listen(wanted, '127.0.0.1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    console.warn(`port ${wanted} is taken; using a free one`);
    await app.listen(0, '127.0.0.1');
  }
  const address = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

function startWorkerProcess(): Promise<ChildProcess> {
  const entry = join(__dirname, '..', '..', 'worker', 'src', 'main.ts');
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', entry],
    {
      env: process.env,
      stdio: ['ignore', 'pipe', 'inherit'],
      // Its own process group: a Ctrl+C in the terminal reaches it once, through stop() (a warm shutdown).
      detached: true,
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      process.stdout.write(`[worker] ${d}`);
      out += d;
      if (/ready\./.test(out)) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`the worker exited with code ${code} before it was ready`)));
  });
}

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${url} -> ${res.status} ${await res.text()}`);
  return res.json();
}

async function get(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} -> ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

main().catch((err: Error) => {
  console.error(`demo failed: ${err.message}`);
  process.exit(1);
});

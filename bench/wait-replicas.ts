/**
 * What `redis.waitReplicas: 1` costs a publisher: the same publish load against a private master
 * with one replica (ports 6405/6406 unless BENCH_WAIT_PORT is set), with and without WAIT.
 * Run: `npx ts-node -r tsconfig-paths/register --transpile-only bench/wait-replicas.ts [tasks] [lanes]`.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { NestFactory } from '@nestjs/core';
import { TaskClient, TaskQueueModule } from 'nestjs-celery';

const PORT = Number(process.env.BENCH_WAIT_PORT ?? 6405);
const TASKS = Number(process.argv[2] ?? 5000);
const LANES = Number(process.argv[3] ?? 20);

function redis(port: number, extra: string[] = []) {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', tmpdir(), '--save', '', '--appendonly', 'no', ...extra],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return new Promise<typeof child>((resolve) =>
    child.stdout!.on('data', (d: Buffer) => /Ready to accept/.test(d.toString()) && resolve(child)),
  );
}

async function run(waitReplicas: number): Promise<number> {
  const app = await NestFactory.createApplicationContext(
    TaskQueueModule.forRoot({
      brokerUrl: `redis://127.0.0.1:${PORT}/0`,
      defaultQueue: `bench-wait-${waitReplicas}`,
      redis: { waitReplicas },
    }),
    { logger: false },
  );
  const client = app.get(TaskClient);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (next < TASKS) {
        next++;
        await client.sendTask('bench.noop', [next]);
      }
    }),
  );
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  await app.close();
  return TASKS / s;
}

async function main(): Promise<void> {
  const master = await redis(PORT);
  const replica = await redis(PORT + 1, ['--replicaof', '127.0.0.1', String(PORT)]);
  await new Promise((r) => setTimeout(r, 1500)); // let the replica finish its first sync
  try {
    for (const w of [0, 1, 0, 1])
      console.log(`waitReplicas=${w}: ${(await run(w)).toFixed(0)} publishes/s (${TASKS} tasks, ${LANES} lanes)`);
  } finally {
    master.kill('SIGKILL');
    replica.kill('SIGKILL');
  }
}

void main();

/**
 * A worker process for the crash-safety suite (test/interop/redis-crash-safety.e2e-spec.ts): a Nest
 * microservice with TaskQueueServer and one task, `crash.record(n, ms)`, that counts each of its
 * runs in Redis (HINCRBY <prefix>crash.started n, then after `ms` of work HINCRBY <prefix>crash.done n)
 * and returns n. The test SIGKILLs this process at random moments and starts it again.
 *
 * Env: CRASH_BROKER_URL (redis://…/db, also the result backend), CRASH_QUEUE, CRASH_PREFIX (the
 * redis.keyPrefix, also put in front of the counting hashes), CRASH_CONCURRENCY,
 * CRASH_VISIBILITY_TIMEOUT and CRASH_RESTORE_INTERVAL (seconds), CRASH_HOSTNAME.
 */
import 'reflect-metadata';
import { Injectable, Module, OnModuleDestroy } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AsyncMicroserviceOptions } from '@nestjs/microservices';
import Redis from 'ioredis';
import { SharedTask, TaskQueueModule, TaskQueueServer } from 'nestjs-celery';

const env = process.env;
const url = required('CRASH_BROKER_URL');
const queue = required('CRASH_QUEUE');
const prefix = env.CRASH_PREFIX ?? '';

function required(name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

@Injectable()
export class RecordingTasks implements OnModuleDestroy {
  private readonly redis = new Redis(url, { protocol: 2 });

  @SharedTask('crash.record')
  async record(n: number, ms: number): Promise<number> {
    await this.redis.hincrby(`${prefix}crash.started`, String(n), 1);
    await new Promise((r) => setTimeout(r, ms));
    await this.redis.hincrby(`${prefix}crash.done`, String(n), 1);
    return n;
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit();
  }
}

@Module({
  imports: [
    TaskQueueModule.forRoot({
      brokerUrl: url,
      resultBackend: url,
      isGlobal: true,
      redis: {
        keyPrefix: prefix,
        visibilityTimeout: Number(env.CRASH_VISIBILITY_TIMEOUT ?? 5),
        restoreInterval: Number(env.CRASH_RESTORE_INTERVAL ?? 1),
        // A worker is killed while it restores: the mutex it held must not block the next one for kombu's 300 s.
        unackedMutexExpire: Number(env.CRASH_MUTEX_EXPIRE ?? 10),
      },
      worker: {
        queues: [queue],
        concurrency: Number(env.CRASH_CONCURRENCY ?? 20),
        hostname: env.CRASH_HOSTNAME,
        shutdownTimeout: 30,
      },
    }),
  ],
  providers: [RecordingTasks],
})
class CrashWorkerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(CrashWorkerModule, {
    inject: [TaskQueueServer],
    useFactory: (server: TaskQueueServer) => ({ strategy: server }),
    logger: ['log', 'warn', 'error'],
  });
  await app.listen();
}

main().catch((err: Error) => {
  console.error(`crash worker failed: ${err.stack ?? err.message}`);
  process.exit(1);
});

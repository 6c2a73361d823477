import { Injectable, Module } from '@nestjs/common';
import Redis from 'ioredis';
import {
  BeatService,
  TaskClient,
  CurrentTask,
  Periodic,
  SharedTask,
  TaskContext,
  TaskQueueModuleOptions,
} from 'nestjs-celery';
import { slotTaskId } from 'nestjs-celery/internal/beat/slot-id';
import { RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { suiteRedisUrl } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';
import { TestVhost, createTestVhost } from '../support/rabbitmq';

const PERIODIC = 'beat_e2e.periodic';
/** Task ids each task ran with, in order: a duplicate send would show as an id twice. */
const periodicRuns: string[] = [];
const runtimeRuns: { tag: string; id: string }[] = [];

@Injectable()
class BeatTasks {
  @Periodic({ every: 1 })
  @SharedTask(PERIODIC)
  periodic(@CurrentTask() ctx: TaskContext): string {
    periodicRuns.push(ctx.request.id);
    return ctx.request.id;
  }

  @SharedTask('beat_e2e.runtime')
  runtime(tag: string, @CurrentTask() ctx: TaskContext): string {
    runtimeRuns.push({ tag, id: ctx.request.id });
    return tag;
  }
}

@Module({ providers: [BeatTasks] })
class BeatTasksModule {}

interface Target {
  name: string;
  setup(): Promise<{ options: TaskQueueModuleOptions; resultsVisible: boolean; cleanup(): Promise<void> }>;
}

const REDIS = suiteRedisUrl('beat');

async function deletePrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS);
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== '0');
  await r.quit();
}

const targets: Target[] = [
  {
    name: 'memory',
    setup: async () => ({
      options: { brokerUrl: `memory://${uniqueName('beat')}` },
      resultsVisible: true,
      cleanup: async () => undefined,
    }),
  },
  {
    name: 'Redis',
    setup: async () => {
      const keyPrefix = `${uniqueName('beat')}:`;
      return {
        options: { brokerUrl: REDIS, redis: { keyPrefix } },
        resultsVisible: true,
        cleanup: () => deletePrefix(keyPrefix),
      };
    },
  },
  {
    name: 'RabbitMQ (rpc:// results, beat.store on Redis)',
    setup: async () => {
      const vhost: TestVhost = await createTestVhost('beat');
      const keyPrefix = `${uniqueName('beat')}:`;
      return {
        options: { brokerUrl: vhost.url, resultBackend: 'rpc://', redis: { keyPrefix }, beat: { store: REDIS } },
        resultsVisible: false,
        cleanup: async () => {
          await deletePrefix(keyPrefix);
          await vhost.delete();
        },
      };
    },
  },
];

describe.each(targets)('Periodic tasks on $name', (target) => {
  let a: RunningWorker | undefined;
  let b: RunningWorker | undefined;
  let cleanup: () => Promise<void> = async () => undefined;
  let resultsVisible = true;
  let options: TaskQueueModuleOptions = {};
  let startedAt = 0;

  beforeAll(async () => {
    const t = await target.setup();
    cleanup = t.cleanup;
    resultsVisible = t.resultsVisible;
    options = t.options;
    startedAt = Date.now();
    // Two workers, each running a scheduler on the same store: only one may send.
    a = await startWorker(
      { ...t.options, worker: { beat: true, hostname: 'celery@beat-a' } },
      { providers: [BeatTasks] },
    );
    b = await startWorker(
      { ...t.options, worker: { beat: true, hostname: 'celery@beat-b' } },
      { providers: [BeatTasks] },
    );
    periodicRuns.length = 0;
    runtimeRuns.length = 0;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cleanup();
  });

  const beat = () => a!.app.get(BeatService);

  it('@Periodic({ every: 1 }) runs once per slot with two schedulers; the task id is the UUID v5 of the slot', async () => {
    const from = Math.floor(startedAt / 1000) * 1000;
    await waitFor(() => periodicRuns.length >= 4, 'four periodic runs');
    expect(new Set(periodicRuns).size).toBe(periodicRuns.length);
    const slotIds = new Set<string>();
    for (let s = from; s <= Date.now() + 1000; s += 1000) slotIds.add(slotTaskId(PERIODIC, s));
    for (const id of periodicRuns) expect(slotIds.has(id)).toBe(true);
    // The result is stored under the slot's id, where any client finds it.
    if (resultsVisible)
      await expect(a!.app.get(TaskClient).asyncResult(periodicRuns[0]).get({ timeout: 10_000 })).resolves.toBe(
        periodicRuns[0],
      );
  });

  it('exactly one of the two schedulers leads, and list() shows the code entry with its runs', async () => {
    const leader = await waitFor(() => beat().leader(), 'a leader');
    const nodes = [a!.app.get(BeatService).scheduler!.node, b!.app.get(BeatService).scheduler!.node];
    expect(nodes).toContain(leader.node);
    expect(
      [a!.app.get(BeatService).scheduler!.isLeader(), b!.app.get(BeatService).scheduler!.isLeader()].filter(Boolean),
    ).toHaveLength(1);
    const entry = (await beat().list()).find((e) => e.name === PERIODIC)!;
    expect(entry).toMatchObject({ task: PERIODIC, schedule: 'every 1s', source: 'code', paused: false });
    expect(entry.runs).toBeGreaterThanOrEqual(1);
  });

  it('a code entry paused at run time stays paused when another replica boots and upserts its code entries', async () => {
    expect(await beat().pause(PERIODIC)).toBe(true);
    const c = await startWorker(
      { ...options, worker: { beat: true, hostname: 'celery@beat-c' } },
      { providers: [BeatTasks] },
    );
    try {
      expect(await c.app.get(BeatService).get(PERIODIC)).toMatchObject({
        paused: true,
        nextRunAt: null,
        source: 'code',
      });
    } finally {
      await c.close();
    }
    expect(await beat().resume(PERIODIC)).toBe(true);
    expect((await beat().get(PERIODIC))!.nextRunAt).toBeInstanceOf(Date);
  });

  it('a leader that shuts down hands over: the other scheduler leads with a higher token and slots go on, once each', async () => {
    const before = (await b!.app.get(BeatService).leader())!;
    const leaderIsA = a!.app.get(BeatService).scheduler!.isLeader();
    const leaving = leaderIsA ? a! : b!;
    const staying = leaderIsA ? b! : a!;
    await leaving.close();
    if (leaderIsA) a = undefined;
    else b = undefined;
    const after = await waitFor(async () => {
      const l = await staying.app.get(BeatService).leader();
      return l && l.node !== before.node ? l : null;
    }, 'the other scheduler to lead');
    expect(after.node).toBe(staying.app.get(BeatService).scheduler!.node);
    expect(after.token).toBeGreaterThan(before.token);
    const runs = periodicRuns.length;
    await waitFor(() => periodicRuns.length >= runs + 2, 'two more periodic runs under the new leader');
    expect(new Set(periodicRuns).size).toBe(periodicRuns.length);
    // Keep `a` as the app the later tests use.
    a = staying;
    b = undefined;
  });

  it('BeatService: an entry added at run time runs; pause stops it, resume restarts it, remove deletes it', async () => {
    const tag = uniqueName('rt');
    await beat().add('runtime-entry', { task: 'beat_e2e.runtime', args: [tag], schedule: { every: 1 } });
    await waitFor(() => runtimeRuns.some((r) => r.tag === tag), 'the runtime entry to run');
    expect(await beat().pause('runtime-entry')).toBe(true);
    const paused = (await a!.app.get(BeatService).get('runtime-entry'))!;
    expect(paused).toMatchObject({ paused: true, nextRunAt: null });
    const before = paused.runs;
    expect(await beat().resume('runtime-entry')).toBe(true);
    await waitFor(async () => (await beat().get('runtime-entry'))!.runs > before, 'a run after resume');
    expect(await beat().remove('runtime-entry')).toBe(true);
    expect((await beat().list()).map((e) => e.name)).not.toContain('runtime-entry');
    expect(new Set(runtimeRuns.map((r) => r.id)).size).toBe(runtimeRuns.length);
  });
});

describe('Periodic tasks on RabbitMQ with the rpc:// backend and no beat.store', () => {
  let vhost: TestVhost | undefined;
  afterAll(async () => {
    await vhost?.delete();
  });

  it('a worker with beat on refuses to start, saying what to configure', async () => {
    vhost = await createTestVhost('beat-nostore');
    const started = startWorker(
      { brokerUrl: vhost.url, resultBackend: 'rpc://', worker: { beat: true } },
      { providers: [BeatTasks] },
    );
    await expect(started).rejects.toThrow(
      /Periodic tasks need a store every replica shares.*beat: \{ store: 'redis:\/\/host:6379\/0' \}/,
    );
  });

  it('an app that only sends boots with @Periodic tasks imported (the schedulers store them)', async () => {
    const app = await startClient({ brokerUrl: vhost!.url, resultBackend: 'rpc://' }, [BeatTasksModule]);
    await app.close();
  });
});

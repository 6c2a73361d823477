import Redis from 'ioredis';
import { Injectable } from '@nestjs/common';
import { AsyncResult, GroupResult, SharedTask, Signature, TaskRef, chain, taskRef } from 'nestjs-celery';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { MathTasks } from '../../apps/worker/src/tasks/math.tasks';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { PythonWorker, runPythonJson, startPythonWorker } from '../support/python-celery';
import { uniqueName } from '../support/wait';
import { suiteRedisUrl } from '../support/test-env';

/** Redis DB 11 belongs to this suite. */
const URL = suiteRedisUrl('redisCanvas');
const add = taskRef(MathTasks, 'add');
const mul = taskRef(MathTasks, 'mul');
const xsum = taskRef(MathTasks, 'xsum');
const fired: Record<string, number> = {};

@Injectable()
class ChordCount {
  /** A chord body that counts its runs per key, to check that a chord fires exactly once. */
  @SharedTask('cvi.count')
  count(values: unknown[], key: string): unknown[] {
    fired[key] = (fired[key] ?? 0) + 1;
    return values;
  }
}

describe('canvas on Redis, across Python and Node workers', () => {
  const nodeQueue = uniqueName('canvas-node');
  const pyQueue = uniqueName('canvas-py');
  let worker: RunningWorker;
  let producer: RunningClient;
  let python: PythonWorker;
  const redis = new Redis(URL);
  const py = (code: string) =>
    runPythonJson<unknown>(
      `import json\nfrom celery_app import app\nfrom celery import chain, group, chord, signature\nfrom celery.result import GroupResult, AsyncResult\n${code}`,
      { TQ_BROKER: URL, TQ_BACKEND: URL },
      60_000,
    );

  beforeAll(async () => {
    [worker, producer, python] = await Promise.all([
      startWorker(
        { brokerUrl: URL, worker: { queues: [nodeQueue], concurrency: 8 } },
        { imports: [TasksModule], providers: [ChordCount] },
      ),
      startClient({ brokerUrl: URL }),
      startPythonWorker({ broker: URL, backend: URL, queues: [pyQueue], hostname: `${pyQueue}@test` }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await python?.stop();
    await producer?.close();
    await worker?.close();
    for (const q of [nodeQueue, pyQueue]) {
      const keys = await redis.keys(`${q}*`);
      if (keys.length) await redis.del(...keys);
    }
    const meta = await redis.keys('celery-task*-meta-*');
    for (let i = 0; i < meta.length; i += 500) await redis.del(...meta.slice(i, i + 500));
    await redis.quit();
  });

  const node = (ref: TaskRef, args: unknown[] = []) => producer.client.signature(ref, args, {}, { queue: nodeQueue });
  const pyTask = (name: string, args: unknown[] = []) => new Signature(name, args, {}, { queue: pyQueue });

  it('chain, group and chord run on our worker with the Redis backend', async () => {
    const c = (await producer.client.chain(node(add, [2, 2]), node(mul, [10]))) as AsyncResult;
    expect(await c.get({ timeout: 20_000 })).toBe(40);
    const g = await producer.client.group(node(add, [1, 1]), node(add, [2, 2]));
    expect(await g.join({ timeout: 20_000 })).toEqual([2, 4]);
    const ch = await producer.client.chord([node(mul, [2, 3]), node(mul, [4, 5])], node(xsum));
    expect(await ch.get({ timeout: 20_000 })).toBe(26);
  });

  it('a chain built in Node runs through a Python worker', async () => {
    const result = (await producer.client.chain(pyTask('py.add', [1, 2]), pyTask('py.mul', [10]))) as AsyncResult;
    expect(await result.get({ timeout: 20_000 })).toBe(30);
  });

  it('a chain built in Python runs through our worker', async () => {
    const out = await py(`
r = chain(signature('tasks.add', args=(1, 2), queue='${nodeQueue}'), signature('tasks.mul', args=(10,), queue='${nodeQueue}')).apply_async()
print(json.dumps({"result": r.get(timeout=20), "parent": r.parent.get(timeout=5)}))`);
    expect(out).toEqual({ result: 30, parent: 3 });
  });

  it('one chain mixes a Node task and a Python task on their own queues', async () => {
    const result = (await producer.client.chain(
      node(add, [2, 3]),
      pyTask('py.mul', [4]),
      node(add, [1]),
    )) as AsyncResult;
    expect(await result.get({ timeout: 20_000 })).toBe(21);
  });

  it('a chord whose header is split between Python and Node workers fires its body exactly once', async () => {
    const header = [node(add, [1, 1]), pyTask('py.add', [2, 2]), node(mul, [3, 3]), pyTask('py.mul', [4, 4])];
    const result = await producer.client.chord(header, node(xsum));
    expect(await result.get({ timeout: 30_000 })).toBe(2 + 4 + 9 + 16);
    const fromPython = await py(`print(json.dumps(AsyncResult('${result.id}', app=app).get(timeout=10)))`);
    expect(fromPython).toBe(31);
  });

  it('a chord built in Python with a header split across both kinds of worker', async () => {
    const out = await py(`
h = [signature('tasks.add', args=(1, 1), queue='${nodeQueue}'), signature('py.add', args=(5, 5), queue='${pyQueue}')]
r = chord(h)(signature('tasks.xsum', queue='${nodeQueue}'))
print(json.dumps(r.get(timeout=30)))`);
    expect(out).toBe(12);
  });

  it('a Node-built chord with chains in the header, steps on Python and Node workers, fires once with each last result', async () => {
    const key = uniqueName('chord-chains');
    const header = [
      chain(pyTask('py.add', [1, 2]), pyTask('py.mul', [10])),
      node(add, [5, 5]),
      chain(node(add, [2, 2]), pyTask('py.mul', [3])),
    ];
    const result = await producer.client.chord(header, new Signature('cvi.count', [key], {}, { queue: nodeQueue }));
    expect(await result.get({ timeout: 30_000 })).toEqual([30, 10, 12]);
    expect(fired[key]).toBe(1);
    // The chord's counters are gone once it fired, so no later part can fire it again.
    expect(await redis.exists(`celery-taskset-meta-${(result.parent as GroupResult).id}.s`)).toBe(0);
  });

  it('a chord built in Python with a chain in the header runs the chain through our worker', async () => {
    const key = uniqueName('py-chord-chain');
    const out = await py(`
h = [chain(signature('tasks.add', args=(1, 2), queue='${nodeQueue}'), signature('tasks.mul', args=(10,), queue='${nodeQueue}')), signature('py.add', args=(5, 5), queue='${pyQueue}')]
r = chord(h)(signature('cvi.count', args=('${key}',), queue='${nodeQueue}'))
print(json.dumps(r.get(timeout=30)))`);
    expect(out).toEqual([30, 10]);
    expect(fired[key]).toBe(1);
  });

  it('a chord built in Python whose header chain fails on our worker fails the body with ChordError', async () => {
    const out = (await py(`
h = [chain(signature('tasks.fail', args=('step broke',), queue='${nodeQueue}', immutable=True), signature('py.mul', args=(10,), queue='${pyQueue}')), signature('py.add', args=(1, 1), queue='${pyQueue}')]
r = chord(h)(signature('tasks.xsum', queue='${nodeQueue}'))
exc = r.get(timeout=30, propagate=False)
print(json.dumps({"type": type(exc).__name__, "message": str(exc), "state": r.state, "last": r.parent.results[0].id}))`)) as Record<
      string,
      string
    >;
    // As Celery: the chain's part is its last step, stored with the first step's error.
    expect(out).toMatchObject({
      type: 'ChordError',
      state: 'FAILURE',
      message: `Dependency ${out.last} raised Error('step broke')`,
    });
  });

  it('a GroupResult saved on one side is read on the other', async () => {
    const g = await producer.client.group(node(add, [1, 1]), node(add, [2, 2]));
    await g.join({ timeout: 20_000 });
    await g.save();
    expect(await py(`print(json.dumps(GroupResult.restore('${g.id}', app=app).join(timeout=10)))`)).toEqual([2, 4]);
    const saved = (await py(`
g = group(signature('py.add', args=(3, 3), queue='${pyQueue}'), signature('py.add', args=(4, 4), queue='${pyQueue}')).apply_async()
g.get(timeout=20)
g.save()
print(json.dumps(g.id))`)) as string;
    const restored = (await producer.client.restoreGroup(saved)) as GroupResult;
    expect(await restored.join({ timeout: 10_000 })).toEqual([6, 8]);
  });

  it('a failing Python header task fails the Node-built chord body with ChordError', async () => {
    const result = await producer.client.chord([node(add, [1, 1]), pyTask('py.fail', ['header broke'])], node(xsum));
    await expect(result.get({ timeout: 30_000 })).rejects.toMatchObject({ excType: 'ChordError' });
  });

  it('Celery signature dicts from Python are accepted as callbacks', async () => {
    const out = await py(`
r = app.send_task('tasks.add', (2, 3), queue='${nodeQueue}', link=signature('tasks.mul', args=(100,), queue='${nodeQueue}'))
r.get(timeout=20)
import time
child = None
for _ in range(200):
    meta = app.backend.get_task_meta(r.id)
    if meta.get('children'):
        child = meta['children'][0][0][0]
        break
    time.sleep(0.05)
print(json.dumps(AsyncResult(child, app=app).get(timeout=20)))`);
    expect(out).toBe(500);
    void chain;
  });
});

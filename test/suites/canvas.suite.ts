import { Injectable } from '@nestjs/common';
import {
  AsyncResult,
  CurrentTask,
  GroupResult,
  SharedTask,
  Signature,
  TaskContext,
  TaskFailedError,
  TaskState,
  chain,
  chord,
  group,
  taskRef,
} from 'nestjs-celery';
import { loadVector } from '../support/celery-vectors';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { MathTasks } from '../../apps/worker/src/tasks/math.tasks';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { uniqueName, waitFor } from '../support/wait';
import { BrokerTarget } from '../support/broker-targets';

const add = taskRef(MathTasks, 'add');
const mul = taskRef(MathTasks, 'mul');
const xsum = taskRef(MathTasks, 'xsum');
const seen: Record<string, unknown[]> = {};

@Injectable()
class CanvasTasks {
  /** Records what it gets; as a callback it gets the parent's result first. */
  @SharedTask('cv.record')
  record(value: unknown, key: string): unknown {
    (seen[key] ??= []).push(value);
    return value;
  }

  @SharedTask('cv.fail')
  fail(message: string): never {
    throw new Error(message);
  }

  @SharedTask('cv.ids')
  ids(_previous: unknown, @CurrentTask() ctx: TaskContext): Record<string, unknown> {
    return { id: ctx.request.id, parentId: ctx.request.parentId, rootId: ctx.request.rootId };
  }

  @SharedTask('cv.wait')
  async wait(key: string, @CurrentTask() ctx: TaskContext): Promise<string> {
    (seen[key] ??= []).push(ctx.request.id);
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    return 'aborted';
  }
}

const record = (key: string) => new Signature('cv.record', [key]);

/**
 * Canvas (issue 7), the same on every broker. A backend without group and chord storage (rpc://, as in
 * Celery) runs the rest, and is checked to refuse chords at build time with a clear error.
 */
export function canvasSuite(target: BrokerTarget, features: { chords: boolean } = { chords: true }): void {
  describe(`canvas (${target.name})`, () => {
    let worker: RunningWorker;
    let producer: RunningClient;
    const c = () => producer.client;

    beforeAll(async () => {
      await target.setup();
      worker = await startWorker(target.options({ worker: { concurrency: 8 } }), {
        imports: [TasksModule],
        providers: [CanvasTasks],
      });
      producer = await startClient(target.options());
    });
    afterAll(async () => {
      await producer?.close();
      await worker?.close();
      await target.teardown();
    });

    describe('signatures', () => {
      it('serialize exactly as Celery signature dicts, and read back from Python ones', () => {
        const sig = c().signature(add, [2], {}, { countdown: 1 });
        expect(sig.toDict()).toEqual({
          task: 'tasks.add',
          args: [2],
          kwargs: {},
          options: { countdown: 1 },
          subtask_type: null,
          immutable: false,
        });
        expect(sig.si().toDict().immutable).toBe(true);
        expect(sig.clone([3]).args).toEqual([2, 3]);
        const fromPython = loadVector('redis-task-envelope-links.json').body_json[2].errbacks[0];
        expect(Signature.fromDict(fromPython).toDict()).toEqual(fromPython);
      });
    });

    describe('link and link_error', () => {
      it('sends the callback with the result, and the errback with the failed task id', async () => {
        const key = uniqueName('link');
        const ok = await c().applyAsync(add, [2, 3], {}, { link: record(key) });
        await ok.get({ timeout: 5000 });
        const bad = await c().sendTask('cv.fail', ['x'], {}, { linkError: record(key) });
        await bad.get({ timeout: 5000 }).catch(() => undefined);
        await waitFor(() => seen[key]?.length === 2, 'callback and errback');
        expect(seen[key]).toEqual([5, bad.id]);
        expect(await ok.children()).toHaveLength(1);
      });
    });

    describe('chain', () => {
      it('passes each result on, sets parent and root ids, and gives access to the parents', async () => {
        const result = (await c().chain(
          c().signature(add, [2, 2]),
          c().signature(add, [4]),
          c().signature(mul, [10]),
        )) as AsyncResult;
        expect(await result.get({ timeout: 5000 })).toBe(80);
        const second = result.parent as AsyncResult;
        const first = second.parent as AsyncResult;
        expect(await second.get()).toBe(8);
        expect(await first.get()).toBe(4);
        expect(await first.children()).toEqual([second.id]);
        const ids = (await ((await c().chain(c().signature(add, [1, 1]), new Signature('cv.ids'))) as AsyncResult).get({
          timeout: 5000,
        })) as Record<string, string>;
        expect(ids.parentId).toBe(ids.rootId);
        expect(ids.parentId).not.toBe(ids.id);
      });

      it('an immutable step ignores the previous result', async () => {
        const result = (await c().chain(c().signature(add, [1, 1]), c().signature(mul, [3, 3]).si())) as AsyncResult;
        expect(await result.get({ timeout: 5000 })).toBe(9);
      });

      it('a failing step fails every later step with the same error, and runs its errbacks', async () => {
        const key = uniqueName('chain-fail');
        const result = (await c().chain(
          c().signature(add, [1, 1]),
          new Signature('cv.fail', ['broken']).si().linkError(record(key)),
          c().signature(add, [1]),
        )) as AsyncResult;
        await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'Error', excMessage: ['broken'] });
        await waitFor(() => seen[key]?.length === 1, 'the errback');
      });
    });

    describe('group', () => {
      it('runs members in parallel; join, counts and states; save and restore by id', async () => {
        const g = await c().group(...[1, 2, 3, 4].map((n) => c().signature(mul, [n, n])));
        expect(await g.join({ timeout: 5000 })).toEqual([1, 4, 9, 16]);
        expect(await g.completedCount()).toBe(4);
        expect(await g.ready()).toBe(true);
        expect(await g.successful()).toBe(true);
        expect(await g.failed()).toBe(false);
        if (!features.chords) return;
        await g.save();
        const restored = await c().restoreGroup(g.id);
        expect(restored!.results.map((r) => r.id)).toEqual(g.results.map((r) => r.id));
        expect(await restored!.join({ timeout: 1000 })).toEqual([1, 4, 9, 16]);
      });

      it('reports a failed member, and join throws it', async () => {
        const g = await c().group(c().signature(add, [1, 1]), new Signature('cv.fail', ['member']));
        await expect(g.join({ timeout: 5000 })).rejects.toBeInstanceOf(TaskFailedError);
        expect(await g.failed()).toBe(true);
        expect(await g.successful()).toBe(false);
      });

      it('a group of chains: each member is a chain; results are the last steps', async () => {
        const g = (await c().apply(
          group(
            chain(c().signature(add, [1, 1]), c().signature(mul, [10])),
            chain(c().signature(add, [2, 2]), c().signature(mul, [10])),
          ),
        )) as GroupResult;
        expect(await g.join({ timeout: 5000 })).toEqual([20, 40]);
      });

      it('map, starmap and chunks run the task per item', async () => {
        const mapped = await c().apply(
          new Signature('tasks.xsum').map([
            [1, 2],
            [3, 4],
          ]),
        );
        expect(await (mapped as AsyncResult).get({ timeout: 5000 })).toEqual([3, 7]);
        const starmapped = await c().apply(
          c()
            .signature(add)
            .starmap([
              [1, 2],
              [3, 4],
            ]),
        );
        expect(await (starmapped as AsyncResult).get({ timeout: 5000 })).toEqual([3, 7]);
        const chunked = (await c().apply(
          c()
            .signature(add)
            .chunks(
              [
                [1, 1],
                [2, 2],
                [3, 3],
                [4, 4],
                [5, 5],
              ],
              2,
            ),
        )) as GroupResult;
        expect(await chunked.join({ timeout: 5000 })).toEqual([[2, 4], [6, 8], [10]]);
      });
    });

    if (!features.chords) {
      it('refuses a chord when it is built, saying which backend to use', async () => {
        await expect(c().chord([c().signature(add, [1, 1])], c().signature(xsum))).rejects.toThrow(
          /cannot run chords .*Redis/,
        );
      });
    } else {
      describe('chord', () => {
        it('runs the body once with the header results in order', async () => {
          const result = await c().chord(
            [1, 2, 3].map((n) => c().signature(mul, [n, 2])),
            c().signature(xsum),
          );
          expect(await result.get({ timeout: 5000 })).toBe(12);
          expect((result.parent as GroupResult).results).toHaveLength(3);
        });

        it('a failing header task fails the body with ChordError and calls the body errbacks', async () => {
          const key = uniqueName('chord-fail');
          const body = c().signature(xsum).linkError(record(key));
          const result = await c().chord([c().signature(add, [1, 1]), new Signature('cv.fail', ['part broke'])], body);
          const err = (await result.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
          expect(err).toMatchObject({ excType: 'ChordError', excModule: 'celery.exceptions' });
          expect(err.excMessage[0]).toMatch(/^Dependency .* raised Error\('part broke'\)$/);
          await waitFor(() => seen[key]?.length === 1, 'the body errback');
          expect(seen[key]).toEqual([result.id]);
        });

        it('a revoked header task fails the body instead of hanging', async () => {
          const key = uniqueName('chord-revoke');
          const result = await c().chord(
            [c().signature(add, [1, 1]), new Signature('cv.wait', [key])],
            c().signature(xsum),
          );
          await waitFor(() => seen[key]?.length === 1, 'the waiting member to start');
          worker.server.revoke([seen[key][0] as string], true);
          await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'ChordError' });
        });

        it('a chord timeout fails the body when a member never finishes', async () => {
          const key = uniqueName('chord-timeout');
          const result = await c().chord([new Signature('cv.wait', [key])], c().signature(xsum), { timeout: 0.3 });
          const err = (await result.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
          expect(err.excType).toBe('ChordError');
          expect(err.excMessage[0]).toMatch(/did not complete within 0.3s/);
          worker.server.revoke([seen[key][0] as string], true);
        });

        it('fires once when a worker dies mid-header and another takes over', async () => {
          const queue = uniqueName('chord-kill');
          const key = uniqueName('chord-kill-key');
          // A node name of their own: the suite's worker runs beside them, and on RabbitMQ a node name is
          // one exclusive control queue (a second live listener is refused). The second worker replaces the
          // first under the same name, as a restarted worker does.
          const node = `${uniqueName('takeover')}@canvas`;
          const first = await startWorker(
            target.options({
              worker: {
                queues: [queue],
                concurrency: 2,
                shutdownTimeout: 0,
                hostname: node,
              },
            }),
            { imports: [TasksModule], providers: [CanvasTasks] },
          );
          const result = await c().chord(
            [c().signature(add, [1, 1], {}, { queue }), new Signature('cv.wait', [key], {}, { queue })],
            c().signature(xsum, [], {}, { queue }),
          );
          await waitFor(() => seen[key]?.length === 1, 'the member to start on the first worker');
          await first.close(); // the waiting member's message is unacked: it goes back to the queue
          const second = await startWorker(
            target.options({ worker: { queues: [queue], concurrency: 2, hostname: node } }),
            {
              imports: [TasksModule],
              providers: [CanvasTasks],
            },
          );
          await waitFor(() => seen[key]?.length === 2, 'the member to restart on the second worker');
          second.server.revoke([seen[key][1] as string], true);
          await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'ChordError' });
          await second.close();
        });
      });

      describe('chord with chains in the header', () => {
        it('each chain counts once and gives its last result, in header order', async () => {
          const header = [
            chain(c().signature(add, [1, 2]), c().signature(mul, [10])),
            c().signature(add, [5, 5]),
            chain(c().signature(add, [2, 2]), c().signature(mul, [3]), c().signature(add, [1])),
          ];
          const key = uniqueName('chord-chains');
          const result = await c().chord(header, record(key));
          expect(await result.get({ timeout: 5000 })).toEqual([30, 10, 13]);
          expect(seen[key]).toEqual([[30, 10, 13]]);
          const members = (result.parent as GroupResult).results;
          expect(await Promise.all(members.map((m) => m.get({ timeout: 1000 })))).toEqual([30, 10, 13]);
          expect(await (members[0].parent as AsyncResult).get({ timeout: 1000 })).toBe(3);
        });

        it('a failing first step of a header chain fails the body with ChordError and calls the body errbacks', async () => {
          const key = uniqueName('chord-chain-fail');
          const body = c().signature(xsum).linkError(record(key));
          const failing = chain(new Signature('cv.fail', ['step broke']), c().signature(mul, [10]));
          const result = await c().chord([c().signature(add, [1, 1]), failing], body);
          const err = (await result.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
          expect(err).toMatchObject({ excType: 'ChordError', excModule: 'celery.exceptions' });
          // As Celery: the part is the chain's last step, which is stored with the first step's error.
          const last = (result.parent as GroupResult).results[1];
          expect(err.excMessage[0]).toBe(`Dependency ${last.id} raised Error('step broke')`);
          await expect(last.get({ timeout: 1000 })).rejects.toMatchObject({
            excType: 'Error',
            excMessage: ['step broke'],
          });
          await waitFor(() => seen[key]?.length === 1, 'the body errback');
          expect(seen[key]).toEqual([result.id]);
        });

        it('a terminated first step of a header chain fails the body instead of hanging (Celery would hang)', async () => {
          const key = uniqueName('chord-chain-revoke');
          const result = await c().chord(
            [c().signature(add, [1, 1]), chain(new Signature('cv.wait', [key]), c().signature(mul, [10]))],
            c().signature(xsum),
          );
          await waitFor(() => seen[key]?.length === 1, 'the waiting first step to start');
          worker.server.revoke([seen[key][0] as string], true);
          const err = (await result.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
          expect(err).toMatchObject({ excType: 'ChordError' });
          const last = (result.parent as GroupResult).results[1];
          expect(err.excMessage[0]).toMatch(new RegExp(`^Dependency ${last.id} raised`));
          expect(await last.state()).toBe(TaskState.REVOKED);
        });

        it('refuses a group or a chord as a header member, saying what to do instead', async () => {
          const inner = group(c().signature(add, [1, 1]), c().signature(add, [2, 2]));
          await expect(c().chord([inner], c().signature(xsum))).rejects.toThrow(
            /header member must be a task or a chain of tasks \(got a group\): put a group's tasks in the header itself/,
          );
          await expect(
            c().chord([chord([c().signature(add, [1, 1])], c().signature(xsum))], c().signature(xsum)),
          ).rejects.toThrow(/got a chord/);
          await expect(c().chord([chain(c().signature(add, [1, 1]), inner)], c().signature(xsum))).rejects.toThrow(
            /chain in a chord header must be made of single tasks \(got a group step\)/,
          );
        });
      });

      describe('nesting with chords', () => {
        it('a chain of groups becomes a chord: group | task', async () => {
          const result = (await c().chain(
            group(c().signature(add, [1, 1]), c().signature(add, [2, 2])),
            c().signature(xsum),
          )) as AsyncResult;
          expect(await result.get({ timeout: 5000 })).toBe(6);
        });

        it('a chord inside a chain gets the previous result in every header task', async () => {
          const result = (await c().chain(
            c().signature(add, [1, 1]),
            chord([c().signature(mul, [2]), c().signature(mul, [3])], c().signature(xsum)),
            c().signature(add, [100]),
          )) as AsyncResult;
          expect(await result.get({ timeout: 5000 })).toBe(110);
        });
      });
    }

    describe('nesting', () => {
      it('a chain ending in a group gives a GroupResult', async () => {
        const result = await c().chain(
          c().signature(add, [1, 1]),
          group(c().signature(mul, [10]), c().signature(mul, [20])),
        );
        expect(result).toBeInstanceOf(GroupResult);
        expect(await (result as GroupResult).join({ timeout: 5000 })).toEqual([20, 40]);
      });
    });
  });
}

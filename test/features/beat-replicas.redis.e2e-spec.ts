import Redis from 'ioredis';
import { buildProgram } from 'nestjs-celery/internal/cli/taskq.program';
import { RedisBeatStore } from 'nestjs-celery/internal/beat/redis-beat.store';
import { slotTaskId } from 'nestjs-celery/internal/beat/slot-id';
import { messageOf, parseEnvelope } from 'nestjs-celery/internal/brokers/kombu/kombu-envelope';
import { WorkerProcess, startWorkerProcess } from '../support/worker-process';
import { deletePrefix, inspector, queueKeys, removeBindingsMentioning } from '../support/redis-test.helpers';
import { suiteDb, suiteRedisUrl } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';

/**
 * Three real worker processes (apps/worker/src/main.ts) with TASKQUEUE_BEAT=true share one
 * every-1-second entry. The leader is SIGKILLed twice. Every slot from the first send to the last
 * must be on the queue exactly once (counted by its slot task id); with the entry's `catchup:30`
 * policy, the slots of a takeover are sent late, not lost. Figures are printed, not asserted
 * against a clock.
 */
describe('Periodic tasks: three worker processes with beat on, leader killed twice', () => {
  const URL = suiteRedisUrl('beatReplicas');
  const queue = uniqueName('beat-replicas');
  const entry = uniqueName('every-second');
  const hostnames = [0, 1, 2].map((i) => `celery@${uniqueName(`beatrep${i}`)}`);
  const workers: WorkerProcess[] = [];
  let r: Redis;
  let store: RedisBeatStore;

  beforeAll(async () => {
    r = inspector(suiteDb('beatReplicas'));
    store = new RedisBeatStore(URL, '', true);
    // The workers consume another queue: the entry's messages stay on `queue`, to be counted.
    workers.push(
      ...(await Promise.all(
        hostnames.map((h) =>
          startWorkerProcess(
            {
              TASKQUEUE_BROKER_URL: URL,
              TASKQUEUE_BEAT: 'true',
              TASKQUEUE_HOSTNAME: h,
              TASKQUEUE_QUEUES: `${queue}-work`,
            },
            120_000,
          ),
        ),
      )),
    );
  }, 180_000);
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await store.remove(entry).catch(() => undefined);
    await store.close();
    await r.del(...queueKeys(queue), ...queueKeys(`${queue}-work`));
    await deletePrefix(r, '_taskq.beat.');
    await removeBindingsMentioning(r, [...hostnames, queue]);
    await r.quit();
  });

  const leaderWorker = async () => {
    const leader = await waitFor(() => store.leader(), 'a leader');
    const pid = Number(leader.node.split('/')[1]);
    return { leader, worker: workers.find((w) => w.child.pid === pid)! };
  };
  const lastSlot = async () => (await store.get(entry))?.lastSlot ?? 0;

  it('sends each slot exactly once across two leader kills', async () => {
    const out: string[] = [];
    await buildProgram((l) => out.push(l)).parseAsync([
      'node',
      'taskq',
      '-b',
      URL,
      'schedule',
      'add',
      entry,
      '--task',
      'replica.tick',
      '--every',
      '1',
      '-Q',
      queue,
      '--missed',
      'catchup:30',
    ]);
    expect(out.join('\n')).toMatch(new RegExp(`Entry ${entry}: every 1s`));
    const firstSlot = await waitFor(async () => (await store.get(entry))?.lastSlot, 'the first send', 30_000);

    const takeovers: number[] = [];
    for (const kill of [1, 2]) {
      await waitFor(
        async () => (await lastSlot()) >= firstSlot + kill * 12_000,
        `12 s of sends before kill ${kill}`,
        60_000,
      );
      const { leader, worker } = await leaderWorker();
      expect(worker).toBeDefined();
      const killedAt = Date.now();
      worker.child.kill('SIGKILL');
      await worker.exited;
      const next = await waitFor(
        async () => {
          const l = await store.leader();
          return l && l.node !== leader.node ? l : null;
        },
        `a new leader after kill ${kill}`,
        60_000,
      );
      takeovers.push(Date.now() - killedAt);
      expect(next.token).toBeGreaterThan(leader.token);
    }
    await waitFor(async () => (await lastSlot()) >= firstSlot + 40_000, '40 s of slots', 60_000);
    await store.setPaused(entry, true, null);
    const until = await lastSlot();

    // Count what is on the queue by task id; every slot's id is known in advance (UUID v5).
    const raws = [...(await r.lrange(queue, 0, -1))].reverse();
    const counts = new Map<string, number>();
    for (const raw of raws) {
      const m = messageOf(parseEnvelope(raw));
      expect(m.headers).toMatchObject({ task: 'replica.tick', periodic_task_name: entry });
      counts.set(m.headers.id as string, (counts.get(m.headers.id as string) ?? 0) + 1);
    }
    const perSlot: number[] = [];
    for (let s = firstSlot; s <= until; s += 1000) perSlot.push(counts.get(slotTaskId(entry, s)) ?? 0);
    const missed = perSlot.filter((n) => n === 0).length;
    const maxPerSlot = Math.max(...perSlot);
    const foreign = raws.length - perSlot.reduce((a, b) => a + b, 0);

    process.stdout.write(
      `beat replicas: ${perSlot.length} slots over ${(until - firstSlot) / 1000} s, ${raws.length} messages, sends per slot max ${maxPerSlot}, ` +
        `slots missed ${missed}, takeover after SIGKILL ${takeovers.map((t) => `${(t / 1000).toFixed(1)} s`).join(' and ')}\n`,
    );
    expect(foreign).toBe(0);
    expect(maxPerSlot).toBe(1);
    expect(missed).toBe(0);
  }, 240_000);
});

import { Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { SharedTask } from 'nestjs-celery';
import { CommandLog, MonitoredCommand } from '../support/redis-monitor';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import {
  RESULT_DB,
  deleteResults,
  inspector,
  queueKeys,
  redisUrl,
  removeBindingsMentioning,
} from '../support/redis-test.helpers';
import { uniqueName, waitFor } from '../support/wait';

@Injectable()
class StoreAckTasks {
  @SharedTask('storeack.add')
  add(a: number, b: number): number {
    return a + b;
  }
}

/**
 * With broker and result backend on one Redis server and db, a task's result is stored and its
 * message acked by ONE script: Redis runs the SETEX of the result before the ZREM/HDEL of the ack, so
 * no crash can leave a message acked without its result. DB 3 (redisResults): unique queue, own keys.
 */
describe('Redis: result stored and message acked in one script', () => {
  const queue = uniqueName('storeack');
  const ids: string[] = [];
  let r: Redis;
  let worker: RunningWorker;
  let client: RunningClient;
  let log: CommandLog;

  beforeAll(async () => {
    r = inspector(RESULT_DB);
    const options = { brokerUrl: redisUrl(RESULT_DB), resultBackend: redisUrl(RESULT_DB), defaultQueue: queue };
    worker = await startWorker({ ...options, worker: { queues: [queue] } }, { providers: [StoreAckTasks] });
    client = await startClient(options);
  });
  afterAll(async () => {
    await client?.close();
    await worker?.close();
    await log?.stop();
    await deleteResults(r, ids);
    await r.del(...queueKeys(queue));
    await removeBindingsMentioning(r, [queue]);
    await r.quit();
  });

  it('one EVALSHA carries the result key and the unacked keys; inside it the SETEX comes before the ZREM and HDEL', async () => {
    log = await CommandLog.start(RESULT_DB);
    const result = await client.client.sendTask('storeack.add', [2, 3]);
    ids.push(result.id);
    expect(await result.get({ timeout: 20_000 })).toBe(5);

    const metaKey = `celery-task-meta-${result.id}`;
    const hasKey = (c: MonitoredCommand, key: string) => c.args.includes(key);
    const script = log.indexOf((c) => c.args[0] === 'evalsha' && hasKey(c, metaKey) && hasKey(c, 'unacked_index'));
    expect(script).toBeGreaterThanOrEqual(0);
    // No client wrote the result on its own: every SETEX of it ran inside a script.
    expect(log.named('setex', metaKey).every((c) => c.source === 'lua')).toBe(true);
    const after = log.all.slice(script);
    const setex = after.findIndex((c) => c.args[0] === 'setex' && c.args[1] === metaKey && c.source === 'lua');
    const zrem = after.findIndex((c) => c.args[0] === 'zrem' && c.args[1] === 'unacked_index' && c.source === 'lua');
    const hdel = after.findIndex((c) => c.args[0] === 'hdel' && c.args[1] === 'unacked' && c.source === 'lua');
    expect(setex).toBeGreaterThan(0);
    expect(zrem).toBeGreaterThan(setex);
    expect(hdel).toBeGreaterThan(setex);
  }, 60_000);

  it("an idle worker's reserve rides behind its blocking wait and takes the message the moment it lands", async () => {
    const idle = await CommandLog.start(RESULT_DB);
    try {
      await waitFor(() => idle.named('blmove', queue).length > 0, 'the idle worker to block on its queue', 10_000);
      const result = await client.client.sendTask('storeack.add', [4, 5]);
      ids.push(result.id);
      expect(await result.get({ timeout: 20_000 })).toBe(9);
      const push = idle.indexOf((c) => c.args[0] === 'lpush' && c.args[1] === queue && c.args[2].includes(result.id));
      const taking = idle.reserves('').find((rc) => rc.index > push)!;
      const wait = idle.all
        .slice(0, push)
        .filter((c) => c.args[0] === 'blmove' && c.args[1] === queue)
        .pop()!;
      expect(push).toBeGreaterThanOrEqual(0);
      // Sent by the waiting connection, written with the wait (-1: it runs on the server's clock), and
      // the first reserve after the push: no separate round trip between the wake-up and the take.
      const call = idle.all[taking.index];
      expect(call.source).toBe(wait.source);
      expect(call.args[3 + Number(call.args[2]) + 5]).toBe('-1');
      expect(Number.isFinite(taking.nowMs)).toBe(true);
    } finally {
      await idle.stop();
    }
  }, 60_000);
});

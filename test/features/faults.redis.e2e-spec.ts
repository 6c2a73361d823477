import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { RedisBroker } from 'nestjs-celery/internal/brokers/redis/redis.broker';
import { RedisResultBackend } from 'nestjs-celery/internal/backends/redis/redis.backend';
import { Consumer } from 'nestjs-celery/internal/brokers/broker.interface';
import { BrokerUnavailableError } from 'nestjs-celery/internal/errors';
import { readyMeta, ResultMeta } from 'nestjs-celery/internal/protocol/result-meta';
import { uniqueName, waitFor } from '../support/wait';
import { DeliveryLog, redisOptions, taskMessage } from '../support/redis-test.helpers';
import { PrivateRedisServer, freePort } from '../support/redis-server';

/** Broker faults, on a redis-server of our own that the tests stop and start. */
describe('Redis transport: broker faults', () => {
  let server: PrivateRedisServer;
  let url: string;
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;
  const closers: { close(): Promise<void> }[] = [];
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    server = new PrivateRedisServer(await freePort());
    url = `redis://127.0.0.1:${server.port}/1`;
  });
  beforeEach(async () => {
    await server.start();
    warn = jest.spyOn(Logger.prototype, 'warn');
    log = jest.spyOn(Logger.prototype, 'log');
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.stop();
    for (const c of closers.splice(0)) await c.close();
    warn.mockRestore();
    log.mockRestore();
    await server.kill();
  });

  const broker = (publishTimeout: number) => {
    const b = new RedisBroker(url, redisOptions({ brokerUrl: url, publishTimeout, redis: { reconnectMaxDelay: 200 } }));
    closers.push(b);
    return b;
  };
  const messages = (spy: jest.SpyInstance, re: RegExp) =>
    spy.mock.calls.map((c) => String(c[0])).filter((m) => re.test(m));

  it('logs an outage once, fails a publish after publishTimeout, waits within it, and resumes consuming after a restart', async () => {
    const queue = uniqueName('faults');
    const consumerBroker = broker(1500);
    const patient = broker(30_000);
    await patient.connect();
    const seen = new DeliveryLog();
    consumers.push(
      await consumerBroker.consume({ queues: [queue], prefetch: 5 }, (d) => {
        seen.handler(d);
        void d.ack();
      }),
    );
    await patient.publish(queue, taskMessage('t.f', ['before']));
    await waitFor(() => seen.all.length === 1, 'the first delivery');

    await server.kill();
    // A publish that starts during the outage completes once Redis is back within its bound (30 s).
    let patientSettled = false;
    const pending = patient.publish(queue, taskMessage('t.f', ['after'])).finally(() => (patientSettled = true));
    const t0 = Date.now();
    const err = await consumerBroker.publish(queue, taskMessage('t.f', ['lost'])).catch((e: Error) => e);
    const waited = Date.now() - t0;
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect((err as Error).message).toMatch(
      new RegExp(`queue "${queue}".*unreachable for 1500 ms \\(publishTimeout\\)`),
    );
    expect((err as Error).message).not.toMatch(/:\/\/[^@]*:[^*@]+@/);
    expect(waited).toBeGreaterThanOrEqual(1400);
    // Given up on its own bound: the patient publish, sent before it during the same outage, still waits.
    expect(patientSettled).toBe(false);
    // Let the clients retry a few times, so that "once per outage" is really tested.
    await waitFor(() => messages(warn, /unreachable/).length >= 2, 'both brokers to notice');
    await server.start();
    await pending;
    await waitFor(() => seen.all.length >= 2, 'the delivery after the restart', 15_000);
    expect(seen.all.map((d) => d.message.headers.argsrepr)).toEqual(["('before',)", "('after',)"]);

    // One warning per broker (each owns one health tracker), however many reconnect attempts there were.
    expect(messages(warn, /unreachable/)).toHaveLength(2);
    await waitFor(() => messages(log, /reachable again/).length === 2, 'the recovery logs');
  });

  it('loses nothing when every client connection is killed mid-stream (CLIENT KILL)', async () => {
    const queue = uniqueName('kill');
    const b = broker(10_000);
    const admin = new Redis({ port: server.port, host: '127.0.0.1', protocol: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const m = taskMessage('t.k', [i]);
      ids.push(String(m.headers.id));
      await b.publish(queue, m);
    }
    const seen = new Set<string>();
    let deliveries = 0;
    consumers.push(
      await b.consume({ queues: [queue], prefetch: 7 }, (d) => {
        deliveries++;
        seen.add(String(d.message.headers.id));
        setImmediate(() => void d.ack());
      }),
    );
    for (let k = 0; k < 5; k++) {
      const target = 40 * (k + 1);
      await waitFor(() => seen.size >= Math.min(target, 200) - 20, `progress ${target}`);
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    }
    await waitFor(() => seen.size === 200, 'every task', 30_000);
    await waitFor(
      async () => (await admin.hlen('unacked')) === 0 && (await admin.llen(queue)) === 0,
      'nothing left behind',
      15_000,
    );
    expect([...seen].sort()).toEqual([...ids].sort());
    // At-least-once: a kill can only cause a redelivery, never a loss. Report duplicates.
    process.stdout.write(`CLIENT KILL x5: ${deliveries} deliveries for 200 tasks (${deliveries - 200} duplicates)\n`);
    await admin.quit();
  });

  it('a result backend resubscribes after an outage and reads what it missed', async () => {
    const backend = new RedisResultBackend(
      url,
      redisOptions({ resultBackend: url, publishTimeout: 10_000, redis: { reconnectMaxDelay: 200 } }),
    );
    closers.push(backend);
    const id = uniqueName('t');
    const seen: ResultMeta[] = [];
    await backend.subscribe(id, (m) => seen.push(m));
    await server.kill();
    await server.start();
    const writer = new RedisResultBackend(url, redisOptions({ resultBackend: url }));
    closers.push(writer);
    await writer.store(readyMeta(id, 'SUCCESS', 7, null));
    await waitFor(() => seen.some((m) => m.status === 'SUCCESS'), 'the result after the outage', 15_000);
    expect(seen.find((m) => m.status === 'SUCCESS')!.result).toBe(7);
  });
});

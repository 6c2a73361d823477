import Redis from 'ioredis';
import { RedisResultBackend } from 'nestjs-celery/internal/backends/redis/redis.backend';
import { ResultMeta, readyMeta } from 'nestjs-celery/internal/protocol/result-meta';
import { uniqueName, waitFor } from '../support/wait';
import { RESULT_DB, inspector, redisOptions, redisUrl } from '../support/redis-test.helpers';

/** The Redis result backend on DB 3. */
describe('Redis result backend', () => {
  let r: Redis;
  let backend: RedisResultBackend;
  const ids: string[] = [];
  const newId = () => {
    const id = uniqueName('task');
    ids.push(id);
    return id;
  };

  beforeAll(() => {
    r = inspector(RESULT_DB);
  });
  afterAll(async () => {
    if (ids.length) await r.del(...ids.map((id) => `celery-task-meta-${id}`));
    await r.quit();
  });
  beforeEach(() => {
    backend = new RedisResultBackend(redisUrl(RESULT_DB), redisOptions({ resultExpires: 600 }));
  });
  afterEach(async () => {
    await backend.close();
  });

  it('stores Celery meta under celery-task-meta-<id> with the expiry, and PUBLISHes it on the channel of that name', async () => {
    const id = newId();
    const sub = inspector(RESULT_DB);
    const got: string[] = [];
    sub.on('message', (_c, m) => got.push(m));
    await sub.subscribe(`celery-task-meta-${id}`);
    await backend.store(readyMeta(id, 'SUCCESS', 5, null));
    const json = await r.get(`celery-task-meta-${id}`);
    expect(JSON.parse(json!)).toMatchObject({
      status: 'SUCCESS',
      result: 5,
      traceback: null,
      children: [],
      task_id: id,
    });
    expect(Object.keys(JSON.parse(json!))).toEqual([
      'status',
      'result',
      'traceback',
      'children',
      'date_done',
      'task_id',
    ]);
    const ttl = await r.ttl(`celery-task-meta-${id}`);
    expect(ttl).toBeGreaterThan(590);
    await waitFor(() => got.length === 1, 'the PUBLISH');
    expect(got[0]).toBe(json);
    await sub.quit();
  });

  it('keeps no expiry when resultExpires is 0', async () => {
    const b = new RedisResultBackend(redisUrl(RESULT_DB), redisOptions({ resultExpires: 0 }));
    const id = newId();
    await b.store(readyMeta(id, 'SUCCESS', 1, null));
    expect(await r.ttl(`celery-task-meta-${id}`)).toBe(-1);
    await b.close();
  });

  it('never overwrites a stored SUCCESS, and does not publish the refused state', async () => {
    const id = newId();
    await backend.store({
      status: 'STARTED',
      result: { pid: 1 },
      traceback: null,
      children: [],
      date_done: null,
      task_id: id,
    });
    await backend.store(readyMeta(id, 'SUCCESS', 'first', null));
    const seen: ResultMeta[] = [];
    await backend.subscribe(id, (m) => seen.push(m));
    await backend.store(
      readyMeta(id, 'FAILURE', { exc_type: 'ValueError', exc_message: ['late'], exc_module: 'builtins' }, 'tb'),
    );
    await backend.store(readyMeta(id, 'SUCCESS', 'second', null));
    // A marker stored on another id after them: once it arrives, the refused stores would have too.
    const marker = newId();
    const markers: ResultMeta[] = [];
    await backend.subscribe(marker, (m) => markers.push(m));
    await backend.store(readyMeta(marker, 'SUCCESS', 0, null));
    await waitFor(() => markers.length === 1, 'the marker');
    expect(seen).toEqual([]);
    expect(await backend.get(id)).toMatchObject({ status: 'SUCCESS', result: 'first' });
  });

  it('subscribe() resolves once SUBSCRIBE is confirmed, and many waits share ONE subscriber connection', async () => {
    const name = `taskq:subscribe:${process.pid}`;
    const countSubscribers = async () =>
      ((await r.client('LIST')) as string).split('\n').filter((l) => l.includes(`name=${name} `)).length;
    const before = await countSubscribers();
    const waits = Array.from({ length: 50 }, () => newId());
    const seen = new Map<string, ResultMeta>();
    const offs = await Promise.all(waits.map((id) => backend.subscribe(id, (m) => seen.set(id, m))));
    const numsub = (await r.pubsub('NUMSUB', ...waits.map((id) => `celery-task-meta-${id}`))) as (string | number)[];
    for (let i = 1; i < numsub.length; i += 2) expect(Number(numsub[i])).toBeGreaterThanOrEqual(1);
    expect((await countSubscribers()) - before).toBe(1);
    const other = new RedisResultBackend(redisUrl(RESULT_DB), redisOptions());
    await Promise.all(waits.map((id, i) => other.store(readyMeta(id, 'SUCCESS', i, null))));
    await waitFor(() => seen.size === 50, 'all 50 results');
    expect(seen.get(waits[7])!.result).toBe(7);
    offs.forEach((off) => off());
    await waitFor(
      async () => ((await r.pubsub('NUMSUB', `celery-task-meta-${waits[0]}`)) as (string | number)[])[1] == 0,
      'the unsubscribe',
    );
    await other.close();
  });

  it('forget() deletes the result; get() of an unknown id is null; replyTo is one id per process', async () => {
    const id = newId();
    await backend.store(readyMeta(id, 'SUCCESS', 1, null));
    await backend.forget(id);
    expect(await backend.get(id)).toBeNull();
    const b2 = new RedisResultBackend(redisUrl(RESULT_DB), redisOptions());
    expect(b2.replyTo).toBe(backend.replyTo);
    expect(backend.replyTo).toMatch(/^[0-9a-f-]{36}$/);
    await b2.close();
  });
});

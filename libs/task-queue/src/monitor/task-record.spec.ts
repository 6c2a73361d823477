import { CeleryEvent } from './celery-event';
import { MemoryHistoryStore } from './memory-history.store';
import { taskPatch } from './task-record';

const ev = (type: string, t: number, fields: Record<string, unknown> = {}): CeleryEvent => ({
  type,
  hostname: 'w1@h',
  timestamp: t,
  uuid: 'id-1',
  ...fields,
});

describe('task records from events', () => {
  it('a late task-started never hides SUCCESS', async () => {
    const store = new MemoryHistoryStore({ maxTasks: 10, ttlSeconds: 60, maxField: 100 });
    await store.record(ev('task-received', 1, { name: 'tasks.add', args: '(1, 2)', kwargs: '{}' }));
    await store.record(ev('task-succeeded', 3, { result: '3', runtime: 0.5 }));
    await store.record(ev('task-started', 2));
    const r = (await store.get('id-1'))!;
    expect(r).toMatchObject({ state: 'SUCCESS', name: 'tasks.add', result: '3', runtime: 0.5, worker: 'w1@h' });
    expect(r.timeline.map((e) => e.type)).toEqual(['task-received', 'task-started', 'task-succeeded']);
  });

  it('a retried task shows RETRY, then its later run', async () => {
    const store = new MemoryHistoryStore({ maxTasks: 10, ttlSeconds: 60, maxField: 100 });
    await store.record(ev('task-started', 1));
    await store.record(ev('task-retried', 2, { exception: "ValueError('x')" }));
    expect((await store.get('id-1'))!.state).toBe('RETRY');
    await store.record(ev('task-received', 5, { retries: 1 }));
    expect((await store.get('id-1'))!).toMatchObject({ state: 'RECEIVED', retries: 1 });
  });

  it('cuts long fields and lists children under their parent', async () => {
    const store = new MemoryHistoryStore({ maxTasks: 10, ttlSeconds: 60, maxField: 5 });
    await store.record(ev('task-received', 1, { name: 'p' }));
    await store.record({
      ...ev('task-received', 2, { name: 'c', parent_id: 'id-1', args: '(123456789,)' }),
      uuid: 'id-2',
    });
    expect((await store.get('id-1'))!.children).toEqual(['id-2']);
    expect((await store.get('id-2'))!.args).toBe('(1234…');
  });

  it('keeps at most maxTasks, dropping the oldest', async () => {
    const store = new MemoryHistoryStore({ maxTasks: 2, ttlSeconds: 60, maxField: 100 });
    for (const id of ['a', 'b', 'c']) await store.record({ ...ev('task-received', 1), uuid: id });
    expect(await store.size()).toBe(2);
    expect(await store.get('a')).toBeNull();
  });

  it('a filtered list looks at no more than scanLimit records, newest first', async () => {
    const store = new MemoryHistoryStore({ maxTasks: 10, ttlSeconds: 60, maxField: 100 });
    for (const [i, id] of ['old', 'mid', 'new'].entries())
      await store.record({ ...ev('task-received', i + 1, { name: id }), uuid: id });
    expect((await store.list({ name: 'old' })).map((r) => r.id)).toEqual(['old']);
    expect(await store.list({ name: 'old', scanLimit: 2 })).toEqual([]);
    expect((await store.list({ from: 500, to: 1500 })).map((r) => r.id)).toEqual(['old']);
  });

  it('ignores events without a task id', () => {
    expect(taskPatch({ type: 'task-received', hostname: 'h', timestamp: 1 })).toBeNull();
  });
});

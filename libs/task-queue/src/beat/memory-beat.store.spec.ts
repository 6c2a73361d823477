import { MemoryBeatStore } from './memory-beat.store';

const entry = { task: 't', schedule: { every: 1 } };

describe('MemoryBeatStore (the same rules as the Redis store)', () => {
  it('a takeover gets a higher token, and the old token is refused', async () => {
    const s = MemoryBeatStore.for(`memory://spec-${Math.random()}`);
    await s.upsert('e', entry, 'code', 1000);
    const a = await s.acquire('A', 60_000);
    expect(a).toBe(1);
    expect(await s.acquire('B', 60_000)).toBeNull();
    expect(await s.acquire('A', 60_000)).toBe(1);
    await s.release('A', 1);
    const b = await s.acquire('B', 60_000);
    expect(b).toBe(2);
    expect(
      await s.fire({ name: 'e', token: 1, expectedNext: 1000, next: 2000, lastSlot: 1000, now: 1000, count: 1 }),
    ).toBe('fenced');
    expect(
      await s.fire({ name: 'e', token: 2, expectedNext: 1000, next: 2000, lastSlot: 1000, now: 1000, count: 1 }),
    ).toBe('sent');
    // The same slot again (a lost reply, a second planner): refused, nothing counted twice.
    expect(
      await s.fire({ name: 'e', token: 2, expectedNext: 1000, next: 2000, lastSlot: 1000, now: 1000, count: 1 }),
    ).toBe('moved');
    expect(await s.get('e')).toMatchObject({ next: 2000, runs: 1, lastSlot: 1000 });
  });

  it('upserting code entries keeps a runtime pause and the run count; a changed definition resets next-due', async () => {
    const s = MemoryBeatStore.for(`memory://spec-${Math.random()}`);
    await s.upsert('e', entry, 'code', 1000);
    await s.acquire('A', 60_000);
    await s.fire({ name: 'e', token: 1, expectedNext: 1000, next: 2000, lastSlot: 1000, now: 1000, count: 1 });
    await s.setPaused('e', true, null);
    await s.upsert('e', entry, 'code', 5000);
    expect(await s.get('e')).toMatchObject({ paused: true, next: null, runs: 1 });
    await s.setPaused('e', false, 7000);
    await s.upsert('e', entry, 'code', 9000);
    expect(await s.get('e')).toMatchObject({ paused: false, next: 7000 });
    await s.upsert('e', { ...entry, schedule: { every: 2 } }, 'code', 8000);
    expect(await s.get('e')).toMatchObject({ next: 8000, runs: 1 });
  });
});

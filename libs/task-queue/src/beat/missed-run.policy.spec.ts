import { BoundedSchedule } from './bounded.schedule';
import { EverySchedule } from './every.schedule';
import { planSlots } from './missed-run.policy';
import { slotTaskId } from './slot-id';

const s10 = new EverySchedule(10);
const T = 1_800_000_000_000; // a multiple of 10 s

describe('planSlots (missed-run policies)', () => {
  it('on time: sends the due slot and moves to the next one', () => {
    expect(planSlots(s10, T, T + 3, 'once', 2000)).toEqual({ send: [T], next: T + 10_000 });
  });

  it("'once' (Celery's default): an entry overdue by many slots fires once, for the latest slot", () => {
    expect(planSlots(s10, T, T + 3_600_000 + 5, 'once', 2000)).toEqual({ send: [T + 3_600_000], next: T + 3_610_000 });
  });

  it("'skip': sends only a slot at most the grace late", () => {
    expect(planSlots(s10, T, T + 1500, 'skip', 2000).send).toEqual([T]);
    expect(planSlots(s10, T, T + 5000, 'skip', 2000)).toEqual({ send: [], next: T + 10_000 });
  });

  it('{ catchUp: N }: every missed slot, the N latest, oldest first', () => {
    expect(planSlots(s10, T, T + 25_000, { catchUp: 5 }, 2000).send).toEqual([T, T + 10_000, T + 20_000]);
    expect(planSlots(s10, T, T + 3_600_000, { catchUp: 3 }, 2000).send).toEqual([
      T + 3_580_000,
      T + 3_590_000,
      T + 3_600_000,
    ]);
  });

  it('a host clock that jumps a year ahead causes no burst (bounded work and sends)', () => {
    const year = 365 * 86_400_000;
    expect(planSlots(s10, T, T + year, 'once', 2000).send).toHaveLength(1);
    expect(planSlots(s10, T, T + year, { catchUp: 4 }, 2000).send).toHaveLength(4);
  });

  it('a clock that goes back sends nothing before the due slot', () => {
    expect(planSlots(s10, T, T - 60_000, 'once', 2000).send).toEqual([]);
  });

  it('limit: stops after the remaining count and drops the entry from the due set', () => {
    expect(planSlots(s10, T, T + 25_000, { catchUp: 5 }, 2000, 2)).toEqual({ send: [T, T + 10_000], next: null });
    expect(planSlots(s10, T, T + 1, 'once', 2000, 1)).toEqual({ send: [T], next: null });
  });

  it('startAt/endAt bound the slots', () => {
    const b = new BoundedSchedule(s10, T + 20_000, T + 40_000);
    expect(b.next(T)).toBe(T + 20_000);
    expect(b.next(T + 40_000)).toBeNull();
    expect(b.latest(T + 100_000)).toBe(T + 40_000);
    expect(b.latest(T + 10_000)).toBeNull();
  });
});

describe('slotTaskId', () => {
  it('is a UUID v5, the same for the same entry and slot, different otherwise', () => {
    const id = slotTaskId('cleanup', T);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(slotTaskId('cleanup', T)).toBe(id);
    expect(slotTaskId('cleanup', T + 10_000)).not.toBe(id);
    expect(slotTaskId('other', T)).not.toBe(id);
  });
});

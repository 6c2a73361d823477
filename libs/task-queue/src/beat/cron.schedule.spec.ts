import { CronSchedule } from './cron.schedule';
import { EverySchedule } from './every.schedule';
import { planSlots } from './missed-run.policy';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** Every slot in [from, to), walking with next(). */
function slots(s: CronSchedule, from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(to);
  for (let t = s.next(Date.parse(from) - 1); t !== null && t < end; t = s.next(t)) out.push(iso(t)!);
  return out;
}

describe('CronSchedule (Celery crontab semantics)', () => {
  it('ANDs day-of-month and day-of-week, Sunday = 0', () => {
    // Friday the 13th only (Vixie cron would fire on every 13th and every Friday).
    expect(slots(new CronSchedule('0 0 13 * 5'), '2026-01-01T00:00:00Z', '2026-12-31T00:00:00Z')).toEqual([
      '2026-02-13T00:00:00.000Z',
      '2026-03-13T00:00:00.000Z',
      '2026-11-13T00:00:00.000Z',
    ]);
    // Sundays at noon in March 2026: 1, 8, 15, 22, 29.
    expect(slots(new CronSchedule('0 12 * * 0'), '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z')).toHaveLength(5);
    expect(new Date(new CronSchedule('0 12 * * 0').next(Date.parse('2026-03-01T00:00:00Z'))!).getUTCDay()).toBe(0);
  });

  it('reads the fields in the entry time zone', () => {
    expect(iso(new CronSchedule('0 9 * * *', 'Europe/Berlin').next(Date.parse('2026-01-10T00:00:00Z')))).toBe(
      '2026-01-10T08:00:00.000Z',
    );
    expect(iso(new CronSchedule('0 9 * * *', 'America/New_York').next(Date.parse('2026-07-10T00:00:00Z')))).toBe(
      '2026-07-10T13:00:00.000Z',
    );
  });

  it('refuses anything but 5 valid fields, saying why', () => {
    expect(() => new CronSchedule('0 0 * * * *')).toThrow(/must have 5 fields/);
    expect(() => new CronSchedule('61 * * * *')).toThrow(/not valid/);
    expect(() => new CronSchedule('0 * * * *', 'Mars/Olympus')).toThrow(/not valid/);
  });

  it('latest() is the slot at or before a time, consistent with next()', () => {
    const s = new CronSchedule('*/5 * * * *');
    const t = Date.parse('2026-01-01T00:05:00Z');
    expect(iso(s.latest(t))).toBe('2026-01-01T00:05:00.000Z');
    expect(iso(s.latest(t - 1))).toBe('2026-01-01T00:00:00.000Z');
    expect(s.next(s.latest(t - 1)!)).toBe(t);
  });
});

/**
 * DST policy (docs/periodic-tasks.md): every real occurrence of a wall-clock time fires once. A
 * fixed time that occurs twice fires once (first occurrence); one that does not exist fires at the
 * first valid time after the gap, the same day; an hourly entry fires in every real hour, so twice
 * in the repeated hour and never for the hour that does not exist.
 */
describe.each([
  // zone, spring-forward day, fall-back day, UTC of 02:30 daily around them, hourly counts
  // zone, spring-forward day, fall-back day, a wall time that occurs twice on the fall-back day
  ['Europe/Berlin', '2026-03-29', '2026-10-25', '02:30'],
  ['America/New_York', '2026-03-08', '2026-11-01', '01:30'],
])('DST in %s', (tz, spring, fall, repeated) => {
  const daily = new CronSchedule('30 2 * * *', tz);
  const dailyRepeated = new CronSchedule(`${Number(repeated.slice(3))} ${Number(repeated.slice(0, 2))} * * *`, tz);
  const hourly = new CronSchedule('0 * * * *', tz);
  const dayRange = (day: string) => {
    // The local calendar day, as UTC instants (both zones are at most 5 h off UTC).
    const start = Date.parse(`${day}T00:00:00Z`) - 12 * 3600_000;
    const end = Date.parse(`${day}T00:00:00Z`) + 36 * 3600_000;
    return [new Date(start).toISOString(), new Date(end).toISOString()] as const;
  };
  const localDate = (ms: string) =>
    new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
      new Date(ms),
    );
  const localTime = (ms: string) =>
    new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
      new Date(ms),
    );

  it('spring forward: the daily 02:30 fires once, at 03:00 (first valid time after the gap)', () => {
    const runs = slots(daily, ...dayRange(spring)).filter((r) => localDate(r) === spring);
    expect(runs).toHaveLength(1);
    expect(localTime(runs[0])).toBe('03:00');
  });

  it('fall back: the daily 02:30 fires once', () => {
    const runs = slots(daily, ...dayRange(fall)).filter((r) => localDate(r) === fall);
    expect(runs).toHaveLength(1);
    expect(localTime(runs[0])).toBe('02:30');
  });

  it(`fall back: a daily entry at ${repeated}, a time that occurs twice, fires once, at the first occurrence`, () => {
    const runs = slots(dailyRepeated, ...dayRange(fall)).filter((r) => localDate(r) === fall);
    expect(runs).toHaveLength(1);
    expect(localTime(runs[0])).toBe(repeated);
    // It is the first one: the same wall time comes again an hour later.
    expect(localTime(new Date(Date.parse(runs[0]) + 3600_000).toISOString())).toBe(repeated);
  });

  it('spring forward: hourly fires in each of the 23 real hours, once', () => {
    const runs = slots(hourly, ...dayRange(spring)).filter((r) => localDate(r) === spring);
    expect(runs).toHaveLength(23);
    expect(new Set(runs).size).toBe(23);
    for (let i = 1; i < runs.length; i++) expect(Date.parse(runs[i]) - Date.parse(runs[i - 1])).toBe(3600_000);
  });

  it('fall back: hourly fires in each of the 25 real hours, once (the repeated hour twice, an hour apart)', () => {
    const runs = slots(hourly, ...dayRange(fall)).filter((r) => localDate(r) === fall);
    expect(runs).toHaveLength(25);
    for (let i = 1; i < runs.length; i++) expect(Date.parse(runs[i]) - Date.parse(runs[i - 1])).toBe(3600_000);
  });

  it('a scheduler ticking every second across each change sends each of those slots once', () => {
    for (const day of [spring, fall]) {
      for (const s of [daily, dailyRepeated, hourly]) {
        const [from, to] = dayRange(day);
        let due = s.next(Date.parse(from))!;
        const sent: number[] = [];
        // Tick every 10 s of store time; planSlots must neither repeat nor skip.
        for (let now = Date.parse(from); now < Date.parse(to); now += 10_000) {
          if (due > now) continue;
          const plan = planSlots(s, due, now, 'once', 2000);
          sent.push(...plan.send);
          due = plan.next!;
        }
        expect(sent).toEqual(
          slots(s, from, to)
            .map((x) => Date.parse(x))
            .filter((x) => x >= sent[0]),
        );
        expect(new Set(sent).size).toBe(sent.length);
      }
    }
  });
});

describe('EverySchedule', () => {
  it('aligns slots to the epoch, so every replica computes the same ones', () => {
    const s = new EverySchedule(5);
    expect(s.next(Date.parse('2026-01-01T00:00:03.2Z'))).toBe(Date.parse('2026-01-01T00:00:05Z'));
    expect(s.next(Date.parse('2026-01-01T00:00:05Z'))).toBe(Date.parse('2026-01-01T00:00:10Z'));
    expect(s.latest(Date.parse('2026-01-01T00:00:09.999Z'))).toBe(Date.parse('2026-01-01T00:00:05Z'));
    expect(() => new EverySchedule(0)).toThrow(/every must be/);
  });
});

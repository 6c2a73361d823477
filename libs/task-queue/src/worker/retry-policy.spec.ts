import { autoretryCountdown, shouldAutoretry } from './retry-policy';
import { TASK_DEFAULTS } from './task-options';

class Transient extends Error {}
class Fatal extends Transient {}

describe('retry policy', () => {
  it('uses defaultRetryDelay without backoff', () => {
    expect(autoretryCountdown(0, { ...TASK_DEFAULTS })).toBe(180);
  });

  it('doubles from a 1 s base with retryBackoff true, capped at retryBackoffMax', () => {
    const o = { ...TASK_DEFAULTS, retryBackoff: true, retryJitter: false, retryBackoffMax: 600 };
    expect([0, 1, 2, 3, 9, 10, 20].map((r) => autoretryCountdown(r, o))).toEqual([1, 2, 4, 8, 512, 600, 600]);
  });

  it('picks uniformly in [0, delay] with jitter (on by default)', () => {
    const o = { ...TASK_DEFAULTS, retryBackoff: 2 };
    expect(autoretryCountdown(3, o, () => 0)).toBe(0);
    expect(autoretryCountdown(3, o, () => 0.999999)).toBe(16);
  });

  it('autoretries only the listed errors, minus dontAutoretryFor', () => {
    const o = { ...TASK_DEFAULTS, autoretryFor: [Transient], dontAutoretryFor: [Fatal] };
    expect(shouldAutoretry(new Transient(), o)).toBe(true);
    expect(shouldAutoretry(new Fatal(), o)).toBe(false);
    expect(shouldAutoretry(new Error(), o)).toBe(false);
  });
});

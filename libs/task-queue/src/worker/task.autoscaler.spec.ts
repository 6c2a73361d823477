import { ScaledPool, TaskAutoscaler } from './task.autoscaler';

function pool(size: number, held: number): ScaledPool & { size: number; held: number } {
  return {
    size,
    held,
    resize(n: number) {
      this.size = n;
    },
  };
}

describe('TaskAutoscaler', () => {
  it('grows to the tasks held, at most max', () => {
    const p = pool(1, 10);
    const a = new TaskAutoscaler(p, 4, 1, 30_000, () => 0);
    expect(a.tick()).toBe(true);
    expect(p.size).toBe(4);
    p.held = 2;
    expect(a.tick()).toBe(false);
    expect(p.size).toBe(4);
  });

  it('shrinks towards min only after the keepalive since the last grow', () => {
    let now = 0;
    const p = pool(1, 3);
    const a = new TaskAutoscaler(p, 4, 1, 30_000, () => now);
    a.tick();
    expect(p.size).toBe(3);
    p.held = 0;
    now = 30_000;
    expect(a.tick()).toBe(false);
    now = 30_001;
    expect(a.tick()).toBe(true);
    expect(p.size).toBe(1);
  });

  it('never shrinks before it has grown once (Celery)', () => {
    const p = pool(3, 0);
    const a = new TaskAutoscaler(p, 4, 1, 0, () => 1e9);
    expect(a.tick()).toBe(false);
  });

  it('update moves the pool into new bounds and reports them', () => {
    const p = pool(4, 0);
    const a = new TaskAutoscaler(p, 4, 1, 30_000);
    expect(a.update(2, null)).toEqual({ max: 2, min: 1 });
    expect(p.size).toBe(2);
    expect(a.update(null, 2)).toEqual({ max: 2, min: 2 });
    expect(a.update(6, 5)).toEqual({ max: 6, min: 5 });
    expect(p.size).toBe(5);
    expect(a.info()).toEqual({ max: 6, min: 5, current: 5, qty: 0 });
  });

  it('update refuses bounds that cannot work and changes nothing', () => {
    const p = pool(2, 0);
    const a = new TaskAutoscaler(p, 4, 1, 30_000);
    expect(() => a.update(0, null)).toThrow(/max must be a whole number >= 1, got 0/);
    expect(() => a.update(3, 5)).toThrow(/min must be a whole number from 0 to max \(3\), got 5/);
    expect(a.bounds).toEqual({ max: 4, min: 1 });
  });
});

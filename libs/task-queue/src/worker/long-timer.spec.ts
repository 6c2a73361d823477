import { MAX_TIMER_MS, setLongTimeout } from './long-timer';

describe('setLongTimeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('fires a delay over 2^31 - 1 ms only when it is due, not at once', () => {
    const fn = jest.fn();
    const ms = MAX_TIMER_MS * 2 + 1000;
    setLongTimeout(fn, ms);
    jest.advanceTimersByTime(1);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(MAX_TIMER_MS * 2);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(999);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('fires a short delay as setTimeout does', () => {
    const fn = jest.fn();
    setLongTimeout(fn, 50);
    jest.advanceTimersByTime(49);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('clear() stops it in any step', () => {
    const fn = jest.fn();
    const t = setLongTimeout(fn, MAX_TIMER_MS + 10);
    jest.advanceTimersByTime(MAX_TIMER_MS + 1);
    t.clear();
    jest.advanceTimersByTime(100);
    expect(fn).not.toHaveBeenCalled();
  });
});

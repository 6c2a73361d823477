import { RateLimiter } from './rate-limiter';
import { parseRateLimit } from '../options/rate-limit';
import { ConfigurationError } from '../errors';

describe('rate limiter', () => {
  it.each([
    ['10/s', 100],
    ['100/m', 600],
    ['1000/h', 3600],
    ['4', 250],
    [2, 500],
  ])('reads %s as one start every %s ms', (limit, ms) => {
    expect(parseRateLimit(limit)).toBe(ms);
  });

  it('refuses a rate it cannot read, saying how to write one', () => {
    expect(() => parseRateLimit('fast')).toThrow(ConfigurationError);
    expect(() => parseRateLimit('fast')).toThrow(/'10\/s', '100\/m' or '1000\/h'/);
  });

  it('spaces starts out, and reserves nothing for a wait longer than the hold bound', () => {
    const limiter = new RateLimiter();
    expect(limiter.reserve('t', '10/s', Infinity, 0)).toBe(0);
    expect(limiter.reserve('t', '10/s', Infinity, 0)).toBe(100);
    expect(limiter.reserve('t', '10/s', 50, 0)).toBe(200);
    expect(limiter.reserve('t', '10/s', Infinity, 0)).toBe(200);
    expect(limiter.reserve('other', '10/s', Infinity, 0)).toBe(0);
  });
});

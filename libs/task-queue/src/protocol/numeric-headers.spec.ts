import { InvalidTaskMessageError } from '../errors';
import { parseRetriesHeader, parseTimeLimitHeader } from './numeric-headers';

describe('parseTimeLimitHeader', () => {
  it.each([
    [null, [null, null]],
    [undefined, [null, null]],
    [
      [null, null],
      [null, null],
    ],
    [
      [10, 5],
      [10, 5],
    ],
    [
      [0, 0],
      [null, null],
    ],
    [
      [2.5, null],
      [2.5, null],
    ],
    [
      [3e6, null],
      [3e6, null],
    ],
    [
      [BigInt(2) ** BigInt(60), null],
      [2 ** 60, null],
    ],
  ])('%p → %p', (v, want) => {
    expect(parseTimeLimitHeader(v)).toEqual(want);
  });

  it.each([
    [[-1, null], /hard time limit .* >= 0; got -1/],
    [[null, -0.5], /soft time limit .* got -0.5/],
    [[NaN, null], /got NaN/],
    [[Infinity, null], /got Infinity/],
    [['10', null], /got "10"/],
    [[true, null], /got true/],
    [[{}, null], /got \{\}/],
    [[1], /must be \[hard, soft\]/],
    ['10', /must be \[hard, soft\]/],
  ])('refuses %p with a clear reason', (v, reason) => {
    expect(() => parseTimeLimitHeader(v)).toThrow(InvalidTaskMessageError);
    expect(() => parseTimeLimitHeader(v)).toThrow(reason);
  });
});

describe('parseRetriesHeader', () => {
  it.each([
    [null, 0],
    [undefined, 0],
    [0, 0],
    [3, 3],
    [BigInt(7), 7],
  ])('%p → %p', (v, want) => {
    expect(parseRetriesHeader(v)).toBe(want);
  });
  it.each([-1, 1.5, '3', NaN, Infinity, [1]])('refuses %p', (v) => {
    expect(() => parseRetriesHeader(v)).toThrow(/"retries" header must be a whole number >= 0/);
  });
});

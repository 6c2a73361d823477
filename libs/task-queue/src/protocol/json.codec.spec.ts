import { decodeJson, encodeJson } from './json.codec';
import { SerializationError } from '../errors';
import { loadVector } from '../../../../test/support/celery-vectors';

describe('JSON codec', () => {
  it.each([
    ['a BigInt', [10n], /BigInt/],
    ['a function', [{ f: () => 1 }], /"f" is a function/],
    ['a symbol', [Symbol('s')], /symbol/],
    ['NaN', [NaN], /NaN/],
    ['Infinity', [{ x: Infinity }], /"x" is Infinity/],
  ])('refuses %s with a clear error', (_what, value, message) => {
    expect(() => encodeJson(value, 'the arguments of task t')).toThrow(SerializationError);
    expect(() => encodeJson(value, 'the arguments of task t')).toThrow(message);
  });

  it('refuses a circular structure', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => encodeJson([a])).toThrow(/circular reference/);
  });

  it('writes dates as kombu 5.2 writes an aware UTC datetime', () => {
    expect(encodeJson([new Date('2024-01-02T03:04:05.678Z')])).toBe('["2024-01-02T03:04:05.678000Z"]');
  });

  it('reads NaN, Infinity and integers beyond 2^53 that Python may send', () => {
    expect(decodeJson('[NaN, Infinity, -Infinity, 1.5]')).toEqual([NaN, Infinity, -Infinity, 1.5]);
    expect(decodeJson('{"big": 12345678901234567890, "small": 42}')).toEqual({ big: 12345678901234567890n, small: 42 });
  });

  it('reads every kombu 5.5 tagged type of the captured vector', () => {
    const values = loadVector('kombu-json-types.json').values as Record<string, Record<string, string>>;
    const decoded = Object.fromEntries(
      Object.entries(values)
        .filter(([, v]) => !v['kombu_5.5.4'].startsWith('ERROR'))
        .map(([k, v]) => [k, decodeJson(v['kombu_5.5.4'])]),
    );
    expect(decoded.datetime_utc).toEqual(new Date('2024-01-02T03:04:05.679Z'));
    expect(decoded.decimal).toBe('1.10');
    expect(decoded.uuid).toBe('12345678-1234-5678-1234-567812345678');
    expect(decoded.bytes_utf8).toEqual(Buffer.from('hello'));
  });

  it('refuses an unknown tag, as kombu does', () => {
    expect(() => decodeJson('{"__type__": "pickle", "__value__": "x"}')).toThrow(/Unknown tagged JSON type/);
  });
});

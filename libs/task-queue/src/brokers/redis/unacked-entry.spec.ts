import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUnackedEntry } from './unacked-entry';
import { CELERY_FIXTURES } from '../../../../../test/support/celery-vectors';

const vector = JSON.parse(readFileSync(join(CELERY_FIXTURES, 'redis-unacked-entry.json'), 'utf8')) as {
  hset_value_raw: string;
};

describe('parseUnackedEntry', () => {
  it('restores a captured kombu entry marked redelivered in headers and delivery_info', () => {
    const e = parseUnackedEntry(vector.hset_value_raw)!;
    expect(e.exchange).toBe('');
    expect(e.routingKey).toBe('celery');
    const env = JSON.parse(e.restored);
    expect(env.headers.redelivered).toBe(true);
    expect(env.properties.delivery_info).toEqual({ exchange: '', routing_key: 'celery', redelivered: true });
    expect(env.body).toBe(JSON.parse(vector.hset_value_raw)[0].body);
  });

  it('keeps long integers digit for digit', () => {
    const raw =
      '[{"body": "e30=", "headers": {"big": 123456789012345678901}, "properties": {"delivery_info": {"exchange": "", "routing_key": "q"}, "priority": 6}}, "", "q"]';
    const e = parseUnackedEntry(raw)!;
    expect(e.restored).toContain('123456789012345678901');
    expect(e.restored).toContain('"headers": {"redelivered": true, "big"');
    expect(e.restored).toContain('"delivery_info": {"redelivered": true, "exchange"');
    expect(e.priority).toBe(6);
  });

  it('gives back a wrapped non-envelope item exactly as it was', () => {
    const raw = JSON.stringify([
      { headers: { redelivered: true }, properties: { delivery_info: {} }, taskq_raw: 'not json {' },
      '',
      'q',
    ]);
    expect(parseUnackedEntry(raw)).toMatchObject({ restored: 'not json {', routingKey: 'q' });
  });

  it('returns null for something that is not an entry', () => {
    expect(parseUnackedEntry('nope')).toBeNull();
    expect(parseUnackedEntry('[1]')).toBeNull();
  });
});

import { ConfigurationError } from '../errors';
import { maskBrokerUrl, parseBrokerUrl, splitBrokerUrls } from './broker-url';

const SECRET = 'S3cr3tXyz';

describe('maskBrokerUrl', () => {
  const cases: [string, string][] = [
    [`redis://:${SECRET}@h:6379/0`, 'redis://:***@h:6379/0'],
    [`redis://u:${SECRET}@h:6379/0`, 'redis://u:***@h:6379/0'],
    [`rediss://u:${SECRET}%2Fa%40b@h:6380/1`, 'rediss://u:***@h:6380/1'],
    [`amqp://u:${SECRET}/x@h:5672//`, 'amqp://u:***@h:5672//'],
    [`amqp://u:${SECRET}@x@h//`, 'amqp://u:***@h//'],
    [`amqp://u:${SECRET}?#[]@h//`, 'amqp://u:***@h//'],
    [`amqp://u:${SECRET}@h1//;amqp://u:${SECRET}@h2//`, 'amqp://u:***@h1//;amqp://u:***@h2//'],
    [`amqp://u:a;${SECRET}@h1//;amqps://v:${SECRET}@h2//`, 'amqp://u:***@h1//;amqps://v:***@h2//'],
    [
      `sentinel://:${SECRET}@h:26379;sentinel://:${SECRET}@h2:26380/0?master_name=m&sentinel_password=${SECRET}`,
      'sentinel://:***@h:26379;sentinel://:***@h2:26380/0?master_name=m&sentinel_password=***',
    ],
    [`//:${SECRET}@h`, '***@h'],
    ['memory://', 'memory://'],
    ['rpc://', 'rpc://'],
    ['redis://h:6379/0', 'redis://h:6379/0'],
  ];
  it.each(cases)('%s', (url, masked) => {
    expect(maskBrokerUrl(url)).toBe(masked);
    expect(maskBrokerUrl(url)).not.toContain(SECRET);
  });
});

describe('parseBrokerUrl', () => {
  it('decodes a percent-encoded password with reserved characters', () => {
    const p = parseBrokerUrl(`redis://user:${encodeURIComponent('a/b@c:d?e#f%g;h')}@h:6390/3`);
    expect(p.entries[0]).toMatchObject({
      scheme: 'redis',
      hostname: 'h',
      port: 6390,
      username: 'user',
      password: 'a/b@c:d?e#f%g;h',
      path: '3',
    });
  });

  it('accepts a raw ":" and ";" in a password (legal in user info)', () => {
    expect(parseBrokerUrl('amqp://u:a:b;c@h//').entries[0].password).toBe('a:b;c');
  });

  it('splits a kombu failover list and keeps each entry', () => {
    const p = parseBrokerUrl('amqp://u:p@h1:5701//;amqp://u:p@h2:5702//');
    expect(p.entries.map((e) => [e.hostname, e.port, e.path])).toEqual([
      ['h1', 5701, '/'],
      ['h2', 5702, '/'],
    ]);
    expect(splitBrokerUrls('sentinel://a:1;sentinel://b:2')).toEqual(['sentinel://a:1', 'sentinel://b:2']);
  });

  it('reads sentinel query parameters', () => {
    const p = parseBrokerUrl('sentinel://h:26379;sentinel://h2:26380/2?master_name=mymaster');
    expect(p.scheme).toBe('sentinel');
    expect(p.entries[1].query).toEqual({ master_name: 'mymaster' });
    expect(p.entries[1].path).toBe('2');
  });

  it.each(['/', '@', '?', '#', '[', ' ', '%zz'])(
    'refuses a raw %j in the password, masked, saying to percent-encode',
    (ch) => {
      const url = `redis://user:${SECRET}${ch}tail@h:6379/0`;
      let err: unknown;
      try {
        parseBrokerUrl(url, 'brokerUrl');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigurationError);
      const msg = (err as Error).message;
      expect(msg).toContain('Percent-encode');
      expect(msg).toContain('redis://user:***@h:6379/0');
      expect(msg).not.toContain(SECRET);
      expect(msg).not.toContain('tail');
    },
  );

  it('refuses a failover list that mixes transports', () => {
    expect(() => parseBrokerUrl(`redis://:${SECRET}@h;amqp://h2`)).toThrow(/mixes transports/);
  });

  it('accepts memory:// and rpc://', () => {
    expect(parseBrokerUrl('memory://').entries[0].scheme).toBe('memory');
    expect(parseBrokerUrl('rpc://').entries[0].scheme).toBe('rpc');
  });
});

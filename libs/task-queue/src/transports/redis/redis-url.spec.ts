import { ConfigurationError } from '../../errors';
import { parseRedisUrl } from './redis-url';

describe('parseRedisUrl', () => {
  it('reads host, port, db, user and a percent-encoded password', () => {
    expect(parseRedisUrl('redis://bob:p%40ss@redis.local:6380/5')).toEqual({
      host: 'redis.local',
      port: 6380,
      username: 'bob',
      password: 'p@ss',
      db: 5,
      tls: false,
    });
  });

  it('defaults to port 6379 and DB 0, and turns TLS on for rediss://', () => {
    expect(parseRedisUrl('rediss://h')).toMatchObject({ host: 'h', port: 6379, db: 0, tls: {} });
    expect(parseRedisUrl('rediss://h', { servername: 'x' }).tls).toEqual({ servername: 'x' });
    expect(parseRedisUrl('redis://:secret@h/')).toMatchObject({ username: undefined, password: 'secret', db: 0 });
  });

  it('refuses a path that is not a DB number, without showing the password', () => {
    expect(() => parseRedisUrl('redis://u:secret@h/abc')).toThrow(ConfigurationError);
    expect(() => parseRedisUrl('redis://u:secret@h/abc')).toThrow(/u:\*\*\*@h/);
    expect(() => parseRedisUrl('amqp://h')).toThrow(/redis:\/\//);
  });
});

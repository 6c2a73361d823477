import { RedisKeys } from './redis-keys';

describe('RedisKeys', () => {
  const keys = new RedisKeys('');

  it('puts priorities into kombu buckets, lower number first', () => {
    expect([0, 1, 2, 3, 5, 6, 8, 9, 12, -1].map((p) => keys.bucket('celery', p))).toEqual([
      'celery',
      'celery',
      'celery',
      'celery\x06\x163',
      'celery\x06\x163',
      'celery\x06\x166',
      'celery\x06\x166',
      'celery\x06\x169',
      'celery\x06\x169',
      'celery',
    ]);
    expect(keys.bucket('celery', undefined)).toBe('celery');
  });

  it('lists the four buckets in serving order', () => {
    expect(keys.buckets('q')).toEqual(['q', 'q\x06\x163', 'q\x06\x166', 'q\x06\x169']);
  });

  it('writes the binding member Celery writes for a direct queue', () => {
    expect(keys.binding('celery')).toBe('_kombu.binding.celery');
    expect(RedisKeys.bindingMember('celery', 'celery')).toBe('celery\x06\x16\x06\x16celery');
  });

  it('prefixes every key, kombu global_keyprefix style', () => {
    const p = new RedisKeys('app:');
    expect([p.unacked, p.unackedIndex, p.unackedMutex, p.bucket('q', 9), p.binding('q')]).toEqual([
      'app:unacked',
      'app:unacked_index',
      'app:unacked_mutex',
      'app:q\x06\x169',
      'app:_kombu.binding.q',
    ]);
  });
});

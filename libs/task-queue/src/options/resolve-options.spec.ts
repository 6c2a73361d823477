import { resolveOptions } from './resolve-options';
import { maskUrl } from '../transports/url-mask';
import { ConfigurationError } from '../errors';

describe('options', () => {
  it('masks passwords in URLs for logs', () => {
    expect(maskUrl('redis://:s3cret@127.0.0.1:6379/13')).toBe('redis://:***@127.0.0.1:6379/13');
    expect(maskUrl('amqp://guest:guest@rabbit:5672/vh')).toBe('amqp://guest:***@rabbit:5672/vh');
    expect(maskUrl('redis://127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
  });

  it('applies Celery defaults', () => {
    const o = resolveOptions({});
    expect(o).toMatchObject({
      brokerUrl: 'memory://',
      resultBackend: 'memory://',
      defaultQueue: 'celery',
      acceptContent: ['json'],
      resultExpires: 86400,
      publishTimeout: 10000,
    });
    expect(o.worker).toMatchObject({
      queues: ['celery'],
      prefetchMultiplier: 4,
      shutdownTimeout: 30,
      handleSignals: true,
      sendTaskEvents: false,
    });
    expect(o.redis.visibilityTimeout).toBe(3600);
    expect(resolveOptions({ brokerUrl: 'amqp://h' }).resultBackend).toBe('rpc://');
  });

  it('refuses what it cannot do, saying why', () => {
    expect(() => resolveOptions({ taskSerializer: 'pickle' as 'json' })).toThrow(ConfigurationError);
    expect(() => resolveOptions({ worker: { concurrency: 0 } })).toThrow(/concurrency must be a whole number >= 1/);
    expect(() => resolveOptions({ worker: { autoscale: { max: 0 } } })).toThrow(
      /autoscale.max must be a whole number >= 1, got 0/,
    );
    expect(() => resolveOptions({ worker: { autoscale: { max: 2, min: 3 } } })).toThrow(
      /autoscale.min must be a whole number from 0 to max \(2\), got 3/,
    );
  });

  it('worker.autoscale: off by default; when set, min 0 and keepalive 30 s as Celery', () => {
    expect(resolveOptions().worker.autoscale).toBeNull();
    expect(resolveOptions({ worker: { autoscale: { max: 6 } } }).worker.autoscale).toEqual({
      max: 6,
      min: 0,
      keepalive: 30,
    });
  });
});

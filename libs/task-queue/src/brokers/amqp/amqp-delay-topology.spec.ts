import {
  DELAY_BITS,
  MAX_DELAY_SECONDS,
  delayQueueArguments,
  delayRoutingKey,
  delaySecondsUntil,
  isDeadLetterHeader,
  stripDelayPrefix,
} from './amqp-delay-topology';

describe('AMQP delay topology', () => {
  it('writes the delay as 28 bits, most significant first, before the queue (as kombu 5.5 calculate_routing_key)', () => {
    expect(delayRoutingKey(5, 'celery')).toBe(`${'0.'.repeat(25)}1.0.1.celery`);
    expect(delayRoutingKey(MAX_DELAY_SECONDS, 'a.b')).toBe(`${'1.'.repeat(DELAY_BITS)}a.b`);
    expect(() => delayRoutingKey(0, 'q')).toThrow(RangeError);
  });

  it('takes the bits off again, and only them', () => {
    expect(stripDelayPrefix(delayRoutingKey(5, '1.0.q'))).toBe('1.0.q');
    expect(stripDelayPrefix('celery')).toBe('celery');
  });

  it('rounds the delay down to whole seconds and caps it', () => {
    const now = 1_000_000;
    expect(delaySecondsUntil(new Date(now + 1999), now)).toBe(1);
    expect(delaySecondsUntil(new Date(now + 999), now)).toBe(0);
    expect(delaySecondsUntil(new Date(now - 5000), now)).toBe(0);
    expect(delaySecondsUntil(new Date(now + 1e15), now)).toBe(MAX_DELAY_SECONDS);
  });

  it('declares each level as Celery 5.5 does: quorum, reject-publish, TTL 2^n s, at-least-once dead-lettering to the level below', () => {
    expect(delayQueueArguments(3)).toEqual({
      'x-queue-type': 'quorum',
      'x-overflow': 'reject-publish',
      'x-message-ttl': { '!': 'int', value: 8000 },
      'x-dead-letter-exchange': 'celery_delayed_2',
      'x-dead-letter-strategy': 'at-least-once',
    });
    expect(delayQueueArguments(0)['x-dead-letter-exchange']).toBe('celery_delayed_delivery');
    expect(delayQueueArguments(27)['x-message-ttl']).toEqual({ '!': 'long', value: 2 ** 27 * 1000 });
  });

  it('recognises RabbitMQ dead-letter headers', () => {
    expect(
      ['x-death', 'x-first-death-queue', 'x-last-death-reason', 'x-dead-letter-reason', 'task'].map(isDeadLetterHeader),
    ).toEqual([true, true, true, false, false]);
  });
});

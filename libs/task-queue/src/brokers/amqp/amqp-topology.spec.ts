import { ConfigurationError } from '../../errors';
import { replyQueueOptions, taskQueueArguments, taskQueueOptions, validateAmqpOptions } from './amqp-topology';

describe('amqp-topology', () => {
  it('declares a task queue durable, not auto-deleted, with no arguments by default (Celery 5.2)', () => {
    expect(taskQueueOptions({})).toEqual({ durable: true, autoDelete: false, exclusive: false, arguments: {} });
  });

  it('adds x-max-priority as a signed int and x-queue-type for quorum queues', () => {
    expect(taskQueueArguments({ maxPriority: 10 })).toEqual({ 'x-max-priority': { '!': 'int', value: 10 } });
    expect(taskQueueArguments({ queueType: 'quorum' })).toEqual({ 'x-queue-type': 'quorum' });
  });

  it('refuses quorum with maxPriority, and priorities outside 1..255', () => {
    expect(() => validateAmqpOptions({ queueType: 'quorum', maxPriority: 5 })).toThrow(ConfigurationError);
    expect(() => validateAmqpOptions({ maxPriority: 0 })).toThrow(/1 to 255/);
    expect(() => validateAmqpOptions({ maxPriority: 256 })).toThrow(ConfigurationError);
    expect(() => validateAmqpOptions({ queueType: 'classic', maxPriority: 255 })).not.toThrow();
  });

  it('refuses a control or event queue both exclusive and durable, as Celery does', () => {
    expect(() => validateAmqpOptions({ controlQueueExclusive: true, controlQueueDurable: true })).toThrow(
      /controlQueueExclusive and amqp.controlQueueDurable cannot both be true/,
    );
    expect(() => validateAmqpOptions({ eventQueueExclusive: true, eventQueueDurable: true })).toThrow(
      ConfigurationError,
    );
    expect(() => validateAmqpOptions({ controlQueueExclusive: false, controlQueueDurable: true })).not.toThrow();
  });

  it('declares the rpc reply queue as Celery does: transient, auto-delete, x-expires in ms', () => {
    expect(replyQueueOptions(86_400)).toEqual({
      durable: false,
      autoDelete: true,
      exclusive: false,
      arguments: { 'x-expires': { '!': 'int', value: 86_400_000 } },
    });
    expect(replyQueueOptions(0).arguments).toEqual({});
  });
});

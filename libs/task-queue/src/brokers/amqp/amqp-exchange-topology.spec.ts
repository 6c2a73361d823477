import { AMQP_DEFAULTS } from '../../options/task-queue.defaults';
import { listenerQueueFlags, listenerQueueOptions } from './amqp-exchange-topology';

describe('amqp-exchange-topology', () => {
  const queue = { name: 'w@h.celery.pidbox', bindingKey: '', role: 'control' as const, autoDelete: true };

  it('declares control and event queues exclusive and transient by default (Celery 5.7, accepted by RabbitMQ 4.x)', () => {
    expect(listenerQueueFlags('control', AMQP_DEFAULTS)).toEqual({ exclusive: true, durable: false });
    expect(listenerQueueFlags('event', AMQP_DEFAULTS)).toEqual({ exclusive: true, durable: false });
    expect(listenerQueueFlags(undefined, AMQP_DEFAULTS)).toEqual({ exclusive: true, durable: false });
    expect(listenerQueueOptions({ ...queue, expiresMs: 10_000 }, { exclusive: true, durable: false })).toEqual({
      durable: false,
      autoDelete: true,
      exclusive: true,
      arguments: { 'x-expires': { '!': 'int', value: 10_000 } },
    });
  });

  it('takes each role its own settings; a durable queue is never auto-deleted (kombu: auto_delete = not durable)', () => {
    const amqp = { ...AMQP_DEFAULTS, controlQueueExclusive: false, controlQueueDurable: true };
    expect(listenerQueueFlags('control', amqp)).toEqual({ exclusive: false, durable: true });
    expect(listenerQueueFlags('event', amqp)).toEqual({ exclusive: true, durable: false });
    expect(listenerQueueOptions(queue, { exclusive: false, durable: true })).toMatchObject({
      durable: true,
      autoDelete: false,
      exclusive: false,
    });
  });
});

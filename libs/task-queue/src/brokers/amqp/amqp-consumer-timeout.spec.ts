import { checkConsumerTimeout } from './amqp-consumer-timeout';

describe('checkConsumerTimeout', () => {
  it('says nothing for limits within RabbitMQ consumer_timeout (30 min by default) or no limit', () => {
    expect(checkConsumerTimeout(1800)).toBeNull();
    expect(checkConsumerTimeout(null)).toBeNull();
    expect(checkConsumerTimeout(undefined)).toBeNull();
    expect(checkConsumerTimeout(Infinity)).toBeNull();
  });

  it('warns, naming the task and Celery #6760, when the limit is longer', () => {
    expect(checkConsumerTimeout(1801, undefined, 'Task tasks.report')).toMatch(
      /^Task tasks\.report may stay unacked for 1801 s.*1800 s.*#6760/,
    );
    expect(checkConsumerTimeout(120, 60_000)).toMatch(/60 s/);
    expect(checkConsumerTimeout(120, 0)).toBeNull();
  });
});

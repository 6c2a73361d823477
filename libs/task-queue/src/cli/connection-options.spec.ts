import { ConfigurationError } from '../errors';
import { configuredDefaultQueue, connectionOptions } from './connection-options';

describe('taskq connection options', () => {
  it('no --broker and no TASKQUEUE_BROKER_URL: refused, saying what to set', () => {
    expect(() => connectionOptions({}, {})).toThrow(ConfigurationError);
    expect(() => connectionOptions({}, {})).toThrow(/set TASKQUEUE_BROKER_URL or pass --broker/);
  });

  it('the flag wins over the variable; an explicit memory:// is accepted', () => {
    expect(connectionOptions({ broker: 'redis://a/1' }, { TASKQUEUE_BROKER_URL: 'redis://b/2' }).brokerUrl).toBe(
      'redis://a/1',
    );
    expect(connectionOptions({}, { TASKQUEUE_BROKER_URL: 'redis://b/2' }).brokerUrl).toBe('redis://b/2');
    expect(connectionOptions({ broker: 'memory://' }, {}).brokerUrl).toBe('memory://');
  });

  it('the default queue: TASKQUEUE_DEFAULT_QUEUE, else celery', () => {
    expect(configuredDefaultQueue({ TASKQUEUE_DEFAULT_QUEUE: 'emails' })).toBe('emails');
    expect(configuredDefaultQueue({})).toBe('celery');
  });
});

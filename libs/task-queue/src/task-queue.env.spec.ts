import { optionsFromEnv } from './task-queue.env';

describe('optionsFromEnv', () => {
  it('TASKQUEUE_SEND_TASK_EVENTS=true turns task events on (Celery -E); unset keeps the default', () => {
    expect(optionsFromEnv({ TASKQUEUE_SEND_TASK_EVENTS: 'true' }).worker?.sendTaskEvents).toBe(true);
    expect(optionsFromEnv({ TASKQUEUE_SEND_TASK_EVENTS: 'false' }).worker?.sendTaskEvents).toBe(false);
    expect(optionsFromEnv({}).worker?.sendTaskEvents).toBeUndefined();
  });

  it('TASKQUEUE_AUTOSCALE=max,min turns autoscale on (Celery --autoscale); a bad value says the format', () => {
    expect(optionsFromEnv({ TASKQUEUE_AUTOSCALE: '10,3' }).worker?.autoscale).toEqual({ max: 10, min: 3 });
    expect(optionsFromEnv({ TASKQUEUE_AUTOSCALE: '8' }).worker?.autoscale).toEqual({ max: 8, min: undefined });
    expect(optionsFromEnv({}).worker?.autoscale).toBeUndefined();
    expect(() => optionsFromEnv({ TASKQUEUE_AUTOSCALE: 'ten' })).toThrow(/TASKQUEUE_AUTOSCALE must be max\[,min\]/);
  });
});

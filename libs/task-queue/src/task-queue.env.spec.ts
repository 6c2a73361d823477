import { optionsFromEnv } from './task-queue.env';

describe('optionsFromEnv', () => {
  it('TASKQUEUE_SEND_TASK_EVENTS=true turns task events on (Celery -E); unset keeps the default', () => {
    expect(optionsFromEnv({ TASKQUEUE_SEND_TASK_EVENTS: 'true' }).worker?.sendTaskEvents).toBe(true);
    expect(optionsFromEnv({ TASKQUEUE_SEND_TASK_EVENTS: 'false' }).worker?.sendTaskEvents).toBe(false);
    expect(optionsFromEnv({}).worker?.sendTaskEvents).toBeUndefined();
  });
});

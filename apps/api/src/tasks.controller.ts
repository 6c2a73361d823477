import { BadRequestException, Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { AsyncResult, TaskClient, TaskFailedError, TaskTimeoutError } from 'nestjs-celery';
import { myTask } from './tasks.contract';

/** The seed's view: hand slow work to the queue, answer at once with the task id, read the state later. */
@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TaskClient) {}

  @Post('my-task')
  async startMyTask(@Body() body: { duration?: unknown }): Promise<{ taskId: string }> {
    const duration = Number(body?.duration ?? 5);
    if (!Number.isFinite(duration) || duration < 0) {
      throw new BadRequestException('duration must be a number of seconds >= 0, e.g. {"duration": 5}');
    }
    const result = await this.tasks.delay(myTask, duration);
    return { taskId: result.id };
  }

  /** Sends any task by name: `{"task": "tasks.add", "args": [2, 3], "kwargs": {}}`. */
  @Post()
  async send(
    @Body() body: { task?: unknown; args?: unknown; kwargs?: unknown; countdown?: unknown },
  ): Promise<{ taskId: string }> {
    if (typeof body?.task !== 'string' || !body.task)
      throw new BadRequestException('Give the task name: {"task": "tasks.add", "args": [2, 3]}');
    const args = body.args ?? [];
    const kwargs = body.kwargs ?? {};
    if (!Array.isArray(args)) throw new BadRequestException('"args" must be an array');
    if (typeof kwargs !== 'object' || Array.isArray(kwargs))
      throw new BadRequestException('"kwargs" must be an object');
    const countdown = body.countdown === undefined ? undefined : Number(body.countdown);
    const result = await this.tasks.sendTask(body.task, args, kwargs as Record<string, unknown>, { countdown });
    return { taskId: result.id };
  }

  /** State, and the result or the error. `?wait=N` waits up to N seconds for the task to finish. */
  @Get(':id')
  async status(@Param('id') id: string, @Query('wait') wait?: string): Promise<Record<string, unknown>> {
    const result = this.tasks.asyncResult(id);
    if (wait) await this.waitFor(result, Number(wait));
    const meta = await result.meta();
    const body: Record<string, unknown> = { taskId: id, state: meta.status };
    if (meta.status === 'SUCCESS') body.result = meta.result;
    else if (meta.status === 'FAILURE' || meta.status === 'REVOKED') {
      try {
        await result.get({ timeout: 0 });
      } catch (err) {
        if (err instanceof TaskFailedError)
          body.error = { type: err.excType, message: err.excMessage.join(', '), traceback: err.traceback };
      }
    } else if (meta.result !== null) body.info = meta.result;
    return body;
  }

  private async waitFor(result: AsyncResult, seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds <= 0) return;
    await result.get({ timeout: Math.min(seconds, 60) * 1000 }).catch((err: unknown) => {
      if (!(err instanceof TaskFailedError || err instanceof TaskTimeoutError)) throw err;
    });
  }
}

import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { TaskClient, TaskFailedError } from 'nestjs-celery';

@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TaskClient) {}

  @Post()
  async send(@Body() body: { task: string; args?: unknown[] }): Promise<{ taskId: string }> {
    const result = await this.tasks.sendTask(body.task, body.args ?? []);
    return { taskId: result.id };
  }

  @Get(':id')
  async read(@Param('id') id: string, @Query('wait') wait?: string): Promise<Record<string, unknown>> {
    const result = this.tasks.asyncResult(id);
    try {
      const value = await result.get({ timeout: Number(wait ?? 30) * 1000 });
      return { id, state: 'SUCCESS', result: value };
    } catch (err) {
      if (err instanceof TaskFailedError)
        return { id, state: err.state, error: { type: err.excType, message: err.excMessage } };
      throw err;
    }
  }
}

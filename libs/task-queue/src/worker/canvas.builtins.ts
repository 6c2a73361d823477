import { Injectable } from '@nestjs/common';
import { SharedTask } from '../decorators/shared-task.decorator';
import { CurrentTask } from '../decorators/current-task.decorator';
import { SignatureDict } from '../protocol/task-message';
import { TaskRegistry } from '../registry/task.registry';
import { TaskContext } from '../context/task-context';
import { toCallArgs } from './call-args';
import { CHORD_TIMEOUT_TASK } from '../canvas/canvas.publisher';
import { Signature } from '../canvas/signature';
import { Workflow } from '../canvas/workflow';

/**
 * Celery's built-in canvas tasks that a worker must know: `celery.map` and `celery.starmap` (run a
 * task once per item, in this worker, returning the list), plus our chord timeout.
 */
@Injectable()
export class CanvasBuiltins {
  constructor(
    private readonly registry: TaskRegistry,
    private readonly workflow: Workflow,
  ) {}

  @SharedTask({ name: 'celery.map', argNames: ['task', 'it'] })
  async map(task: SignatureDict, it: unknown[], @CurrentTask() ctx: TaskContext): Promise<unknown[]> {
    return this.each(
      task,
      it.map((item) => [item]),
      ctx,
    );
  }

  @SharedTask({ name: 'celery.starmap', argNames: ['task', 'it'] })
  async starmap(task: SignatureDict, it: unknown[][], @CurrentTask() ctx: TaskContext): Promise<unknown[]> {
    return this.each(task, it, ctx);
  }

  /** Fails the chord's body when the chord has not completed in time (see ChordOptions.timeout). */
  @SharedTask({ name: CHORD_TIMEOUT_TASK, argNames: ['group_id', 'body', 'timeout'], ignoreResult: true })
  async chordTimeout(groupId: string, body: SignatureDict, timeout: number): Promise<void> {
    await this.workflow.closeChordIfOpen(groupId, Signature.fromDict(body), timeout);
  }

  private async each(task: SignatureDict, items: unknown[][], ctx: TaskContext): Promise<unknown[]> {
    const sig = Signature.fromDict(task);
    const def = this.registry.get(sig.task);
    const out: unknown[] = [];
    for (const args of items) out.push(await def.invoke(toCallArgs(def, [...args, ...sig.args], sig.kwargs, ctx)));
    return out;
  }
}

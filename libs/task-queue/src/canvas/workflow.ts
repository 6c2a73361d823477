import { Inject, Injectable, Logger } from '@nestjs/common';
import { ResultBackend, ChordPart } from '../backends/result-backend.interface';
import { SignatureDict, TaskRequest } from '../protocol/task-message';
import { readyMeta } from '../protocol/result-meta';
import { ExceptionInfo, dependencyRaised, excRepr, exceptionInfo } from '../protocol/exception-info';
import { groupTuple, taskTuple } from '../protocol/result-tuple';
import { ChordError } from '../errors';
import { TASK_QUEUE_CONFIG, TASK_QUEUE_RESULT_BACKEND } from '../task-queue.constants';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { TaskState } from '../states';
import { AsyncResult } from '../result/async-result';
import { CanvasPublisher, CanvasResult, allTaskIds } from './canvas.publisher';
import { GroupResult } from '../result/group-result';
import { Signature } from './signature';

/**
 * What a worker does after a task, for the workflow around it (celery-wire.md 7): send callbacks
 * and the next chain step on success, errbacks on failure, fail the rest of a chain so no one waits
 * forever, and count chord parts so the body is sent exactly once, whatever the outcome of each part.
 */
@Injectable()
export class Workflow {
  private readonly logger = new Logger('TaskQueueWorker');

  constructor(
    private readonly publisher: CanvasPublisher,
    @Inject(TASK_QUEUE_RESULT_BACKEND) private readonly backend: ResultBackend,
    @Inject(TASK_QUEUE_CONFIG) private readonly config: ResolvedTaskQueueOptions,
  ) {}

  /** Sends callbacks and the next chain step with the result. Resolves to the children tuples to store. */
  async afterSuccess(req: TaskRequest, value: unknown): Promise<unknown[]> {
    const children: unknown[] = [];
    const ctx = { argsPrefix: [value], parentId: req.id, rootId: req.rootId, origin: this.config.worker.hostname };
    for (const cb of req.embed.callbacks ?? [])
      children.push(tupleOf(await this.publisher.apply(Signature.fromDict(cb), ctx)));
    const chainRest = req.embed.chain ?? [];
    if (chainRest.length > 0) {
      const rest = [...chainRest];
      const next = Signature.fromDict(rest.pop()!);
      const r =
        next.subtaskType === null || next.subtaskType === 'xmap' || next.subtaskType === 'xstarmap'
          ? await this.publisher.applyTask(next, ctx, { chainRest: rest })
          : await this.publisher.apply(next, ctx);
      children.push(tupleOf(r));
    }
    return children;
  }

  /** Sends errbacks with the failed task's id, and stores the same failure on every later chain step. */
  async afterFailure(req: TaskRequest, exc: ExceptionInfo, traceback: string | null): Promise<void> {
    const ctx = { argsPrefix: [req.id], parentId: req.id, rootId: req.rootId, origin: this.config.worker.hostname };
    for (const eb of req.embed.errbacks ?? []) {
      await this.publisher
        .apply(Signature.fromDict(eb), ctx)
        .catch((err: Error) => this.logger.error(`Errback ${eb.task} of ${req.id} could not be sent: ${err.message}`));
    }
    await this.failChainRest(req, TaskState.FAILURE, exc, traceback);
  }

  /** A revoked or expired step: the rest of its chain is stored with the same outcome, so no one waits forever. */
  async afterRevoke(req: TaskRequest, exc: ExceptionInfo): Promise<void> {
    await this.failChainRest(req, TaskState.REVOKED, exc, null);
  }

  /**
   * Stores the outcome on every later step of the chain. A step that belongs to a chord (the last
   * step of a chord header chain: its options hold the group id, index and body) is also counted in
   * that chord with this outcome, as Celery's `mark_as_failure` does, so the body fails instead of waiting.
   */
  private async failChainRest(
    req: TaskRequest,
    state: string,
    exc: ExceptionInfo,
    traceback: string | null,
  ): Promise<void> {
    for (const d of req.embed.chain ?? []) {
      const step = Signature.fromDict(d);
      const groupId = step.subtaskType === null ? step.options.group_id : undefined;
      // rpc:// needs to know where to send: the chain was sent by the same caller, so to the same reply queue.
      for (const id of allTaskIds(step)) {
        await this.backend.store(
          readyMeta(id, state, exc, traceback, { ...(groupId ? { group_id: groupId } : {}), parent_id: req.id }),
          { replyTo: req.replyTo, correlationId: id },
        );
      }
      const chordBody = step.options.chord as SignatureDict | undefined;
      if (groupId && chordBody && step.id) {
        await this.countChordPart(
          groupId,
          chordBody,
          { taskId: step.id, index: step.options.group_index ?? null, state, result: exc },
          req,
        );
      }
    }
  }

  /** Counts this header task in its chord; the call that completes the chord sends the body (or fails it). */
  async chordPart(req: TaskRequest, state: string, result: unknown): Promise<void> {
    if (!req.group || !req.embed.chord) return;
    await this.countChordPart(
      req.group,
      req.embed.chord,
      { taskId: req.id, index: req.groupIndex, state, result },
      req,
    );
  }

  /** Counts one part of chord `groupId`; the call that completes it sends `body` with the results in header order, or fails it. */
  private async countChordPart(groupId: string, body: SignatureDict, part: ChordPart, req: TaskRequest): Promise<void> {
    if (!this.backend.chordPartReturn) return;
    const parts = await this.backend.chordPartReturn(groupId, part);
    if (!parts) return;
    const sig = Signature.fromDict(body);
    const failed = parts.find((p) => p.state !== TaskState.SUCCESS);
    if (failed) return this.failChord(sig, dependencyRaised(failed.taskId, failed.state, failed.result), req);
    await this.publisher.apply(sig, {
      argsPrefix: [parts.map((p) => p.result)],
      parentId: req.id,
      rootId: req.rootId,
      origin: this.config.worker.hostname,
    });
  }

  /** The chord timeout: closes the chord if it is still open and fails its body. */
  async closeChordIfOpen(groupId: string, body: Signature, timeout: number): Promise<void> {
    if (!this.backend.closeChord || !(await this.backend.closeChord(groupId))) return;
    await this.failChord(body, `Chord ${groupId} did not complete within ${timeout}s`);
  }

  /** Fails a chord's body with ChordError and runs the body's errbacks (a failing part, or the chord timeout). */
  async failChord(body: Signature, message: string, req?: TaskRequest): Promise<void> {
    const exc = exceptionInfo(new ChordError(message));
    const ids = allTaskIds(body);
    for (const id of ids)
      await this.backend.store(readyMeta(id, TaskState.FAILURE, exc, null, req ? { parent_id: req.id } : {}));
    this.logger.error(`Chord callback ${body.task}[${ids[0] ?? '?'}] failed: ${excRepr(exc)}`);
    const bodyId = ids[0];
    for (const eb of body.options.link_error ?? []) {
      await this.publisher
        .apply(Signature.fromDict(eb), { argsPrefix: [bodyId], parentId: bodyId, rootId: req?.rootId })
        .catch(() => undefined);
    }
  }
}

/** Celery's result tuple of a child: `[[id, null], null]`, or a group's `[[gid, null], [members…]]`. */
function tupleOf(r: CanvasResult): unknown[] {
  if (r instanceof GroupResult)
    return groupTuple(
      r.id,
      r.results.map((m) => m.id),
    );
  return taskTuple((r as AsyncResult<unknown>).id);
}

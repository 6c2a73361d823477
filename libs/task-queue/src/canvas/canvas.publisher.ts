import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ResultBackend } from '../backends/result-backend.interface';
import { ConfigurationError } from '../errors';
import { ORIGIN, SendOptions, SignatureDict, buildTaskMessage } from '../protocol/task-message';
import { parseIsoTime } from '../protocol/iso-time';
import { TASK_QUEUE_RESULT_BACKEND } from '../task-queue.constants';
import { AsyncResult } from '../result/async-result';
import { GroupResult } from '../result/group-result';
import { TaskControl } from '../control/task-control';
import { DelayIn, TaskPublisher } from '../publish/task.publisher';
import { Signature, chain, chord, group, tasksOf } from './signature';

/** What applying a signature gives back: a task's result, or a group's. */
export type CanvasResult = AsyncResult<unknown> | GroupResult<unknown>;

/** Where a step comes from: its parent's result to prepend, and the workflow's ids. */
export interface ApplyContext {
  /** Prepended to the signature's args unless it is immutable (the parent's result in a chain, callback or chord). */
  argsPrefix?: unknown[];
  parentId?: string | null;
  rootId?: string | null;
  /** The name of the worker or client sending (Celery's `origin`). */
  origin?: string;
}

/** Chord options. */
export interface ChordOptions {
  /** Seconds after which an unfinished chord fails its body with ChordError instead of waiting forever. Default: no timeout. */
  timeout?: number;
}

/** Internal task that enforces a chord timeout; consumed by our workers on the chord header's queue. */
export const CHORD_TIMEOUT_TASK = 'taskq.chord_timeout';

/**
 * Applies signatures of every kind (task, chain, group, chord, chunks), from a client or from a worker
 * continuing a workflow, and lays them out on the wire exactly as Celery does (celery-wire.md 7).
 */
@Injectable()
export class CanvasPublisher {
  constructor(
    @Inject(TASK_QUEUE_RESULT_BACKEND) private readonly backend: ResultBackend,
    private readonly publisher: TaskPublisher,
    private readonly control: TaskControl,
  ) {}

  async apply(sig: Signature, ctx: ApplyContext = {}, chordOptions: ChordOptions = {}): Promise<CanvasResult> {
    switch (sig.subtaskType) {
      case 'chain':
        return this.applyChain(tasksOf(sig), ctx);
      case 'group':
        return this.applyGroup(tasksOf(sig), ctx, sig.options.group_id);
      case 'chord':
        return this.applyChord(
          ((sig.kwargs.header as SignatureDict[]) ?? []).map((d) => Signature.fromDict(d)),
          Signature.fromDict(sig.kwargs.body as SignatureDict),
          ctx,
          { timeout: chordOptions.timeout ?? (sig.options.chord_timeout as number | undefined) },
          sig.options.group_id,
        );
      case 'chunks':
        return this.apply(chunksAsGroup(sig), ctx);
      default:
        return this.applyTask(sig, ctx);
    }
  }

  /** One task message. `chainRest` is the rest of a chain, in Celery's reversed order; `chordBody` makes it a chord header task. */
  async applyTask(
    sig: Signature,
    ctx: ApplyContext,
    extra: { chainRest?: SignatureDict[]; chordBody?: SignatureDict; groupId?: string; groupIndex?: number } = {},
  ): Promise<AsyncResult<unknown>> {
    const o = sig.options;
    const args = sig.immutable ? sig.args : [...(ctx.argsPrefix ?? []), ...sig.args];
    const send: SendOptions = {
      taskId: o.task_id ?? randomUUID(),
      queue: o.queue,
      countdown: o.countdown,
      eta: typeof o.eta === 'string' ? (parseIsoTime(o.eta) ?? undefined) : undefined,
      expires:
        typeof o.expires === 'number'
          ? o.expires
          : typeof o.expires === 'string'
            ? (parseIsoTime(o.expires) ?? undefined)
            : undefined,
      priority: o.priority,
      timeLimit: o.time_limit,
      softTimeLimit: o.soft_time_limit,
    };
    const message = buildTaskMessage(sig.task, args, sig.kwargs, send, {
      replyTo: o.reply_to ?? this.backend.replyTo,
      origin: ctx.origin ?? ORIGIN,
      parentId: ctx.parentId ?? o.parent_id ?? null,
      rootId: ctx.rootId ?? o.root_id ?? null,
      group: extra.groupId ?? o.group_id ?? null,
      groupIndex: extra.groupIndex ?? o.group_index ?? null,
      // A chord header chain's last step carries its chord in its options (Celery's freeze(chord=…)).
      embed: {
        callbacks: o.link ?? null,
        errbacks: o.link_error ?? null,
        chain: extra.chainRest ?? null,
        chord: extra.chordBody ?? (o.chord as SignatureDict | undefined) ?? null,
      },
    });
    await this.publisher.publish(
      this.publisher.queueFor(sig.task, send.queue),
      message,
      o.delay_in as DelayIn | undefined,
    );
    return new AsyncResult(send.taskId!, this.backend, this.control);
  }

  /**
   * A chain: the first step is sent with the rest in `embed.chain`, reversed (the next step last).
   * A group followed by more steps becomes a chord whose body is the rest, as in Celery.
   */
  async applyChain(steps: Signature[], ctx: ApplyContext): Promise<CanvasResult> {
    const frozen = normalizeChain(steps).map((s) => freezeDeep(s, this.backend.replyTo));
    if (frozen.length === 0) throw new ConfigurationError('chain() needs at least one task.');
    const [first, ...rest] = frozen;
    const results = frozen.map((s) => this.resultOf(s));
    for (let i = 1; i < results.length; i++) {
      const r = results[i];
      if (r instanceof AsyncResult) r.parent = results[i - 1];
    }
    if (first.subtaskType === null || first.subtaskType === 'xmap' || first.subtaskType === 'xstarmap') {
      await this.applyTask(first, ctx, { chainRest: rest.map((s) => s.toDict()).reverse() });
    } else {
      await this.apply(first, ctx); // a group or chord: normalizeChain made it the last step
    }
    return results[results.length - 1];
  }

  /** A group: one message per member, with the group id and its index. Chains may be members. */
  async applyGroup(
    members: Signature[],
    ctx: ApplyContext,
    groupId: string = randomUUID(),
  ): Promise<GroupResult<unknown>> {
    const results: AsyncResult<unknown>[] = [];
    for (const [i, member] of members.entries()) {
      if (member.subtaskType === 'chain') {
        const r = await this.applyChain(tasksOf(member), ctx);
        if (!(r instanceof AsyncResult))
          throw new ConfigurationError('A chain inside a group must end with a single task.');
        results.push(r);
      } else if (member.subtaskType === null || member.subtaskType === 'xmap' || member.subtaskType === 'xstarmap') {
        results.push(await this.applyTask(member, ctx, { groupId, groupIndex: i }));
      } else {
        throw new ConfigurationError(`A group member must be a task or a chain, not a ${member.subtaskType}.`);
      }
    }
    return new GroupResult(groupId, results, this.backend);
  }

  /**
   * A chord: the header size is stored first (Celery's `.s` key, one per header member), then each
   * header task is sent with `group`, `group_index` and the body in `embed.chord`. A header chain
   * counts once: as in Celery, only its last step carries the group id, index and body (in its
   * options, frozen before the chain is sent), so the chain's last result is its part of the list.
   * The worker that stores the last header result sends the body with the list of results.
   */
  async applyChord(
    header: Signature[],
    body: Signature,
    ctx: ApplyContext,
    options: ChordOptions = {},
    groupId: string = randomUUID(),
  ): Promise<AsyncResult<unknown>> {
    if (!this.backend.setChordSize || !this.backend.chordPartReturn) {
      throw new ConfigurationError(
        `The ${this.backend.name}:// result backend cannot run chords (Celery's rpc:// cannot either): use a Redis (or memory) result backend.`,
      );
    }
    const frozenBody = freezeDeep(body, this.backend.replyTo);
    const bodyResult = new AsyncResult(frozenBody.id ?? lastTaskId(frozenBody), this.backend, this.control);
    if (header.length === 0) {
      await this.apply(frozenBody, { ...ctx, argsPrefix: [[]] });
      return bodyResult;
    }
    const members = header.map(headerMember);
    await this.backend.setChordSize(groupId, members.length);
    const chordBody = frozenBody.toDict();
    const results: AsyncResult<unknown>[] = [];
    for (const [i, steps] of members.entries()) {
      if (steps.length === 1) {
        results.push(
          await this.applyTask(steps[0].freeze(this.backend.replyTo), ctx, { groupId, groupIndex: i, chordBody }),
        );
        continue;
      }
      const frozen = steps.map((s) => s.freeze(this.backend.replyTo));
      frozen[frozen.length - 1] = frozen[frozen.length - 1].set({
        group_id: groupId,
        chord: chordBody,
        group_index: i,
      });
      results.push((await this.applyChain(frozen, ctx)) as AsyncResult<unknown>);
    }
    bodyResult.parent = new GroupResult(groupId, results, this.backend);
    if (options.timeout) {
      const first = members[0][0];
      const queue = this.publisher.queueFor(first.task, first.options.queue);
      await this.applyTask(
        new Signature(
          CHORD_TIMEOUT_TASK,
          [],
          { group_id: groupId, body: chordBody, timeout: options.timeout },
          { queue, countdown: options.timeout },
        ),
        {},
      );
    }
    return bodyResult;
  }

  private resultOf(sig: Signature): CanvasResult {
    if (sig.subtaskType === 'group') {
      return new GroupResult(
        sig.options.group_id!,
        tasksOf(sig).map((m) => new AsyncResult(lastTaskId(m), this.backend, this.control)),
        this.backend,
      );
    }
    return new AsyncResult(lastTaskId(sig), this.backend, this.control);
  }
}

/** Celery's chain rules: a group followed by steps becomes chord(group, chain(rest)); a chord followed by steps takes them into its body. */
function normalizeChain(steps: Signature[]): Signature[] {
  const flat = steps.flatMap((s) => (s.subtaskType === 'chain' ? tasksOf(s) : [s]));
  for (let i = 0; i < flat.length - 1; i++) {
    const s = flat[i];
    const rest = flat.slice(i + 1);
    const next = rest.length === 1 ? rest[0] : chain(...rest);
    if (s.subtaskType === 'group') return [...flat.slice(0, i), chord(tasksOf(s), next)];
    if (s.subtaskType === 'chord') {
      const body = Signature.fromDict(s.kwargs.body as SignatureDict);
      return [
        ...flat.slice(0, i),
        chord(
          (s.kwargs.header as SignatureDict[]).map((d) => Signature.fromDict(d)),
          chain(body, ...rest),
        ),
      ];
    }
  }
  return flat;
}

/**
 * The steps of one chord header member: a task, or the tasks of a chain (it counts once in the chord).
 * A group or chord member is refused: Celery would count each of its tasks, which we do not support.
 */
function headerMember(member: Signature): Signature[] {
  if (member.subtaskType !== null && member.subtaskType !== 'chain') {
    throw new ConfigurationError(
      `A chord header member must be a task or a chain of tasks (got a ${member.subtaskType}): put a group's tasks in the header itself, and wrap other work in one task.`,
    );
  }
  const steps = member.subtaskType === 'chain' ? normalizeChain(tasksOf(member)) : [member];
  if (steps.length === 0) throw new ConfigurationError('A chain in a chord header needs at least one task.');
  for (const s of steps) {
    if (s.subtaskType !== null) {
      throw new ConfigurationError(
        `A chain in a chord header must be made of single tasks (got a ${s.subtaskType} step): wrap that step in one task.`,
      );
    }
  }
  return steps;
}

/** Gives every task inside a signature its id now, so results can be handed out before anything runs. */
export function freezeDeep(sig: Signature, replyTo: string): Signature {
  switch (sig.subtaskType) {
    case 'chain':
      return chain(...tasksOf(sig).map((s) => freezeDeep(s, replyTo)));
    case 'group':
      return group(...tasksOf(sig).map((s) => freezeDeep(s, replyTo))).set({
        group_id: sig.options.group_id ?? randomUUID(),
      });
    case 'chord': {
      const header = (sig.kwargs.header as SignatureDict[]).map((d) => freezeDeep(Signature.fromDict(d), replyTo));
      const body = freezeDeep(Signature.fromDict(sig.kwargs.body as SignatureDict), replyTo);
      return chord(header, body).set({ ...sig.options, group_id: sig.options.group_id ?? randomUUID() });
    }
    default:
      return sig.freeze(replyTo);
  }
}

/** The id whose result is the result of a frozen signature (the last task of a chain, the body of a chord). */
export function lastTaskId(sig: Signature): string {
  switch (sig.subtaskType) {
    case 'chain': {
      const steps = tasksOf(sig);
      return lastTaskId(steps[steps.length - 1]);
    }
    case 'chord':
      return lastTaskId(Signature.fromDict(sig.kwargs.body as SignatureDict));
    default:
      if (!sig.options.task_id) throw new ConfigurationError(`Signature ${sig.task} is not frozen.`);
      return sig.options.task_id;
  }
}

/** Every task id a frozen signature will produce, for failing a whole chain's remainder. */
export function allTaskIds(sig: Signature): string[] {
  switch (sig.subtaskType) {
    case 'chain':
    case 'group':
      return tasksOf(sig).flatMap(allTaskIds);
    case 'chord':
      return [
        ...(sig.kwargs.header as SignatureDict[]).map((d) => Signature.fromDict(d)).flatMap(allTaskIds),
        ...allTaskIds(Signature.fromDict(sig.kwargs.body as SignatureDict)),
      ];
    default:
      return sig.options.task_id ? [sig.options.task_id] : [];
  }
}

/** Celery applies `chunks` as a group of `celery.starmap` tasks, one per chunk of `n` argument lists. */
function chunksAsGroup(sig: Signature): Signature {
  const task = Signature.fromDict(sig.kwargs.task as SignatureDict);
  const items = sig.kwargs.it as unknown[][];
  const n = sig.kwargs.n as number;
  const parts: Signature[] = [];
  for (let i = 0; i < items.length; i += n)
    parts.push(task.starmap(items.slice(i, i + n)).set({ queue: task.options.queue }));
  return group(...parts);
}

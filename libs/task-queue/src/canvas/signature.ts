import { randomUUID } from 'node:crypto';
import { SignatureDict } from '../protocol/task-message';
import { TaskRef } from '../discovery/task-ref';

/** Celery's canvas types, as `subtask_type` names them. */
export type SubtaskType = null | 'chain' | 'group' | 'chord' | 'chunks' | 'xmap' | 'xstarmap';

/**
 * Apply options of a signature, in Celery's wire names (they travel inside signature dicts).
 * `task_id` is set when the signature is frozen; `link`/`link_error` hold callback signatures.
 */
export interface SignatureOptions {
  task_id?: string;
  reply_to?: string;
  queue?: string;
  countdown?: number;
  eta?: string;
  expires?: string | number;
  priority?: number;
  time_limit?: number;
  soft_time_limit?: number;
  link?: SignatureDict[];
  link_error?: SignatureDict[];
  group_id?: string;
  group_index?: number;
  root_id?: string;
  parent_id?: string;
  [key: string]: unknown;
}

/**
 * A task call that can be passed around and applied later (Celery's `signature`, `.s()`, `.si()`).
 * Plain data: it serializes exactly to Celery's signature dict, and one received from Python reads back.
 */
export class Signature {
  constructor(
    readonly task: string,
    readonly args: unknown[] = [],
    readonly kwargs: Record<string, unknown> = {},
    readonly options: SignatureOptions = {},
    readonly subtaskType: SubtaskType = null,
    readonly immutable = false,
  ) {}

  static of(
    ref: TaskRef | string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: SignatureOptions = {},
  ): Signature {
    const name = typeof ref === 'string' ? ref : ref.name;
    const queue = typeof ref === 'string' ? undefined : ref.queue;
    return new Signature(name, args, kwargs, queue && !options.queue ? { ...options, queue } : options);
  }

  /** Reads a signature dict (from a message, or from Python). Nested canvas dicts keep their shape in kwargs. */
  static fromDict(d: SignatureDict | Record<string, unknown>): Signature {
    const x = d as SignatureDict;
    return new Signature(
      x.task,
      x.args ?? [],
      x.kwargs ?? {},
      (x.options ?? {}) as SignatureOptions,
      (x.subtask_type ?? null) as SubtaskType,
      Boolean(x.immutable),
    );
  }

  toDict(): SignatureDict {
    return {
      task: this.task,
      args: this.args,
      kwargs: this.kwargs,
      options: this.options,
      subtask_type: this.subtaskType,
      immutable: this.immutable,
    };
  }

  toJSON(): SignatureDict {
    return this.toDict();
  }

  /** A copy with args appended (partial application, Celery's `clone(args)`), kwargs merged and options merged. */
  clone(args: unknown[] = [], kwargs: Record<string, unknown> = {}, options: SignatureOptions = {}): Signature {
    return new Signature(
      this.task,
      [...this.args, ...args],
      { ...this.kwargs, ...kwargs },
      { ...this.options, ...options },
      this.subtaskType,
      this.immutable,
    );
  }

  /** A copy that ignores the parent's result in a chain or callback (Celery's `.si()`). */
  si(): Signature {
    return new Signature(this.task, this.args, this.kwargs, this.options, this.subtaskType, true);
  }

  /** A copy with options set. */
  set(options: SignatureOptions): Signature {
    return this.clone([], {}, options);
  }

  /** Adds a callback run with this task's result (Celery's `link`). */
  link(callback: Signature): Signature {
    return this.set({ link: [...(this.options.link ?? []), callback.toDict()] });
  }

  /** Adds an errback run with this task's id when it fails (Celery's `link_error`). */
  linkError(errback: Signature): Signature {
    return this.set({ link_error: [...(this.options.link_error ?? []), errback.toDict()] });
  }

  /** A copy with a task id fixed, so its result can be waited on before it is sent (Celery's `freeze`). */
  freeze(replyTo?: string): Signature {
    if (this.options.task_id) return this;
    return this.set({ task_id: randomUUID(), ...(replyTo ? { reply_to: replyTo } : {}) });
  }

  get id(): string | undefined {
    return this.options.task_id;
  }

  /** `celery.map`: calls this task once per item, in one worker, and returns the list of results. */
  map(items: unknown[]): Signature {
    return new Signature('celery.map', [], { task: this.toDict(), it: items }, {}, 'xmap');
  }

  /** `celery.starmap`: like map, each item being an argument list. */
  starmap(items: unknown[][]): Signature {
    return new Signature('celery.starmap', [], { task: this.toDict(), it: items }, {}, 'xstarmap');
  }

  /** `celery.chunks`: splits the argument lists into chunks of `n`, one starmap task per chunk, run as a group. */
  chunks(items: unknown[][], n: number): Signature {
    if (!(n >= 1)) throw new RangeError('chunks(n): n must be at least 1');
    return new Signature('celery.chunks', [], { task: this.toDict(), it: items, n }, {}, 'chunks');
  }
}

/** Celery's `chain(a, b, c)`: each task gets the previous one's result as its first argument. */
export function chain(...tasks: Signature[]): Signature {
  return new Signature('celery.chain', [], { tasks: tasks.map((t) => t.toDict()) }, {}, 'chain');
}

/** Celery's `group(a, b, c)`: run in parallel; the result is the list of results. */
export function group(...tasks: Signature[]): Signature {
  return new Signature('celery.group', [], { tasks: tasks.map((t) => t.toDict()) }, {}, 'group');
}

/** Celery's `chord(header, body)`: run the header group, then the body with the list of its results. */
export function chord(header: Signature[], body: Signature): Signature {
  return new Signature(
    'celery.chord',
    [],
    { header: header.map((t) => t.toDict()), body: body.toDict(), kwargs: {} },
    {},
    'chord',
  );
}

/** The member signatures of a chain or group dict. */
export function tasksOf(sig: Signature): Signature[] {
  return ((sig.kwargs.tasks as SignatureDict[]) ?? []).map((d) => Signature.fromDict(d));
}

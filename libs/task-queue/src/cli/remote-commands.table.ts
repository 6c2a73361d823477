/**
 * The remote-control commands `taskq inspect` / `taskq control` send, with Celery 5.2's argument
 * names and types (celery/worker/control.py `@inspect_command` / `@control_command` metadata), so a
 * Python worker and ours get the same `arguments` object as from `celery inspect|control`.
 */
type ArgType = 'str' | 'int' | 'float';

export interface RemoteCommand {
  /** Positional arguments, in order: name and type. */
  args: ReadonlyArray<readonly [string, ArgType]>;
  /** How many of `args` must be given (Celery leaves this to the worker's TypeError; we say it first). */
  required: number;
  /** The name that takes every argument after `args`, as a list. */
  variadic?: string;
  /** Celery's usage text. */
  signature: string;
}

const none: RemoteCommand = { args: [], required: 0, signature: '' };

export const INSPECT_COMMANDS: Record<string, RemoteCommand> = {
  ping: none,
  active: none,
  reserved: none,
  scheduled: none,
  stats: none,
  registered: { args: [], required: 0, variadic: 'taskinfoitems', signature: '[attr1 [attr2 [... [attrN]]]]' },
  revoked: none,
  active_queues: none,
  conf: none,
  query_task: { args: [], required: 1, variadic: 'ids', signature: '[id1 [id2 [... [idN]]]]' },
};

export const CONTROL_COMMANDS: Record<string, RemoteCommand> = {
  revoke: { args: [], required: 1, variadic: 'task_id', signature: '[id1 [id2 [... [idN]]]]' },
  terminate: {
    args: [['signal', 'str']],
    required: 2,
    variadic: 'task_id',
    signature: '<signal> [id1 [id2 [... [idN]]]]',
  },
  rate_limit: {
    args: [
      ['task_name', 'str'],
      ['rate_limit', 'str'],
    ],
    required: 2,
    signature: '<task_name> <rate_limit (e.g., 5/s | 5/m | 5/h)>',
  },
  time_limit: {
    args: [
      ['task_name', 'str'],
      ['soft', 'float'],
      ['hard', 'float'],
    ],
    required: 2,
    signature: '<task_name> <soft_secs> [hard_secs]',
  },
  add_consumer: {
    args: [
      ['queue', 'str'],
      ['exchange', 'str'],
      ['exchange_type', 'str'],
      ['routing_key', 'str'],
    ],
    required: 1,
    signature: '<queue> [exchange [type [routing_key]]]',
  },
  cancel_consumer: { args: [['queue', 'str']], required: 1, signature: '<queue>' },
  pool_grow: { args: [['n', 'int']], required: 0, signature: '[N=1]' },
  pool_shrink: { args: [['n', 'int']], required: 0, signature: '[N=1]' },
  autoscale: {
    args: [
      ['max', 'int'],
      ['min', 'int'],
    ],
    required: 0,
    signature: '[max [min]]',
  },
  shutdown: none,
  enable_events: none,
  disable_events: none,
};

/**
 * The `arguments` object for a command from its command-line words (Celery's `_compile_arguments`),
 * or throws an Error that says what is wrong and shows the signature.
 */
export function compileArguments(method: string, spec: RemoteCommand, words: string[]): Record<string, unknown> {
  const usage = `Usage: ${method} ${spec.signature}`.trimEnd();
  if (words.length < spec.required) throw new Error(`${method} needs more arguments. ${usage}`);
  if (!spec.variadic && words.length > spec.args.length)
    throw new Error(`${method} takes at most ${spec.args.length} argument(s), got ${words.length}. ${usage}`);
  const out: Record<string, unknown> = {};
  spec.args.forEach(([name, type], i) => {
    if (i < words.length) out[name] = convert(method, name, type, words[i]);
  });
  if (spec.variadic) out[spec.variadic] = words.slice(spec.args.length);
  return out;
}

function convert(method: string, name: string, type: ArgType, word: string): string | number {
  if (type === 'str') return word;
  const n = Number(word);
  const ok = word.trim() !== '' && Number.isFinite(n) && (type === 'float' || Number.isInteger(n));
  if (!ok) throw new Error(`${method}: ${name} must be ${type === 'int' ? 'an integer' : 'a number'}, got '${word}'.`);
  return n;
}

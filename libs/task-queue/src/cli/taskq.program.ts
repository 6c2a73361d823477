import { Command, InvalidArgumentError, Option } from 'commander';
import { AsyncResult } from '../result/async-result';
import { TaskFailedError, TaskQueueError, TaskTimeoutError } from '../errors';
import { parseIsoTime } from '../protocol/iso-time';
import { decodeJson } from '../protocol/json.codec';
import { ResultMeta } from '../protocol/result-meta';
import { cliContext, ConnectionFlags } from './cli-context';
import { configuredDefaultQueue } from './connection-options';
import { EXIT_CODES_HELP, exitCodeOfState, TASKQ_EXIT } from './exit-codes';
import { scheduleCommand } from './schedule.command';
import { beatCommand } from './beat.command';
import { registerDashboardCommand } from './dashboard.command';
import { registerEventsCommand } from './events.command';
import { registerQueuesCommand } from './queues.command';
import { registerStatusCommand } from './status.command';
import { registerInspectCommand } from './inspect.command';
import { registerControlCommand } from './control.command';

/**
 * `taskq`: Celery's `call`, `result` and `purge` for this library (and any Celery broker), plus
 * `dead-letters` to read what workers moved aside. Output is JSON where a program may read it.
 */
export function buildProgram(out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Command {
  const program = new Command('taskq')
    .description(
      'Send Celery tasks, read results, purge queues. Broker and backend come from flags or TASKQUEUE_BROKER_URL / TASKQUEUE_RESULT_BACKEND.',
    )
    .addOption(
      new Option(
        '-b, --broker <url>',
        'broker URL (default: $TASKQUEUE_BROKER_URL; required, memory:// only if given)',
      ),
    )
    .addOption(
      new Option('--backend <url>', 'result backend URL (default: $TASKQUEUE_RESULT_BACKEND, else as the broker)'),
    )
    .showHelpAfterError();

  program
    .command('call')
    .description('send a task by name and print its id (with --wait, its result)')
    .argument('<task>', 'registered task name, e.g. tasks.add')
    .option('-a, --args <json>', 'positional arguments, a JSON array', jsonArg('array'), [])
    .option('-k, --kwargs <json>', 'keyword arguments, a JSON object', jsonArg('object'), {})
    .option('-Q, --queue <queue>', 'queue to send to ($TASKQUEUE_DEFAULT_QUEUE or celery)', configuredDefaultQueue())
    .option('--countdown <seconds>', 'run no earlier than this many seconds from now', numberArg)
    .option('--eta <iso>', 'run no earlier than this ISO-8601 time', dateArg)
    .option('--expires <seconds>', 'do not run after this many seconds from now', numberArg)
    .option('--priority <0-9>', 'message priority', numberArg)
    .option(
      '--delay-in <where>',
      "where a countdown/eta waits: 'broker' (default) or 'worker' (for queues only Python workers consume)",
    )
    .option('-w, --wait [timeout]', 'wait for the result (seconds, default 30) and print it', numberArg)
    .addHelpText('after', EXIT_CODES_HELP)
    .action(
      async (
        task: string,
        o: {
          args: unknown[];
          kwargs: Record<string, unknown>;
          queue: string;
          countdown?: number;
          eta?: Date;
          expires?: number;
          priority?: number;
          delayIn?: 'broker' | 'worker';
          wait?: number | true;
        },
      ) => {
        await withContext(program.opts(), async ({ client }) => {
          const result = await client.sendTask(task, o.args, o.kwargs, {
            queue: o.queue,
            countdown: o.countdown,
            eta: o.eta,
            expires: o.expires,
            priority: o.priority,
            delayIn: o.delayIn,
          });
          if (o.wait === undefined) return out(result.id);
          const { exitCode, ...printed } = await waitResult(result, o.wait);
          out(JSON.stringify(printed));
          process.exitCode = exitCode;
        });
      },
    );

  program
    .command('result')
    .description('print the state and result of a task id')
    .argument('<id>', 'task id')
    .option('-w, --wait [timeout]', 'wait until it is ready (seconds, default 30)', numberArg)
    .option('-t, --traceback', 'print the traceback of a failed task instead')
    .addHelpText('after', `${EXIT_CODES_HELP} Without --wait, a state not ready yet exits 0.`)
    .action(async (id: string, o: { wait?: number | true; traceback?: boolean }) => {
      await withContext(program.opts(), async ({ client }) => {
        const result = client.asyncResult(id);
        let timedOut: TaskTimeoutError | null = null;
        if (o.wait !== undefined)
          await result.get({ timeout: seconds(o.wait) * 1000, propagate: false }).catch((err: unknown) => {
            if (!(err instanceof TaskTimeoutError)) throw err;
            timedOut = err;
          });
        const meta = await result.meta();
        if (o.traceback) out(meta.traceback ?? '');
        else out(JSON.stringify(summary(meta)));
        if (timedOut) process.stderr.write(`taskq: ${(timedOut as TaskTimeoutError).message}\n`);
        process.exitCode = timedOut ? TASKQ_EXIT.timeout : exitCodeOfState(meta.status);
      });
    });

  program
    .command('purge')
    .description('delete every waiting message of the queues (running tasks are not touched)')
    .option(
      '-Q, --queue <queues>',
      'comma-separated queues ($TASKQUEUE_DEFAULT_QUEUE or celery)',
      configuredDefaultQueue(),
    )
    .action(async (o: { queue: string }) => {
      await withContext(program.opts(), async ({ broker }) => {
        const queues = o.queue
          .split(',')
          .map((q) => q.trim())
          .filter(Boolean);
        let total = 0;
        for (const q of queues) {
          const n = await broker.purge(q);
          total += n;
          out(`Purged ${n} message${n === 1 ? '' : 's'} from queue ${q}.`);
        }
        if (queues.length > 1) out(`Purged ${total} in all.`);
      });
    });

  program
    .command('dead-letters')
    .description('print the messages a worker moved aside from a queue, newest first, with the reason')
    .option(
      '-Q, --queue <queue>',
      'queue whose dead letters to read ($TASKQUEUE_DEFAULT_QUEUE or celery)',
      configuredDefaultQueue(),
    )
    .option('-n, --limit <n>', 'how many', numberArg, 20)
    .action(async (o: { queue: string; limit: number }) => {
      await withContext(program.opts(), async ({ broker }) => {
        const letters = await broker.readDeadLetters(o.queue, o.limit);
        for (const l of letters) {
          out(
            JSON.stringify({
              at: l.at,
              queue: l.queue,
              reason: l.reason,
              task: l.message.headers.task ?? null,
              id: l.message.headers.id ?? null,
              body: l.message.body.toString('utf8'),
            }),
          );
        }
      });
    });

  program.addCommand(scheduleCommand(program, out));
  program.addCommand(beatCommand(program, out));
  registerDashboardCommand(program, out);
  registerEventsCommand(program, out);
  registerQueuesCommand(program, out);
  registerStatusCommand(program, out);
  registerInspectCommand(program, out);
  registerControlCommand(program, out);

  return program;
}

async function withContext(
  flags: ConnectionFlags,
  fn: (ctx: ReturnType<typeof cliContext>) => Promise<void>,
): Promise<void> {
  const ctx = cliContext(flags);
  try {
    await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** The outcome of `call --wait` as printed, and its exit code (see exit-codes.ts). */
async function waitResult(
  result: AsyncResult,
  wait: number | true,
): Promise<Record<string, unknown> & { exitCode: number }> {
  try {
    const value = await result.get({ timeout: seconds(wait) * 1000 });
    return { id: result.id, state: 'SUCCESS', result: value, exitCode: TASKQ_EXIT.success };
  } catch (err) {
    if (err instanceof TaskFailedError) {
      const exception = { type: err.excType, message: err.excMessage };
      return { id: result.id, state: err.state, exception, exitCode: exitCodeOfState(err.state) };
    }
    if (err instanceof TaskTimeoutError) {
      // The id still matters: the task may finish later and `taskq result <id>` will read it.
      process.stderr.write(`taskq: ${err.message}\n`);
      return { id: result.id, state: err.lastState, exitCode: TASKQ_EXIT.timeout };
    }
    throw err;
  }
}

function summary(meta: ResultMeta): Record<string, unknown> {
  return { id: meta.task_id, state: meta.status, result: meta.result, date_done: meta.date_done };
}

function seconds(wait: number | true): number {
  return wait === true ? 30 : wait;
}

function jsonArg(kind: 'array' | 'object') {
  return (text: string): unknown => {
    let v: unknown;
    try {
      v = decodeJson(text);
    } catch (err) {
      throw new InvalidArgumentError(`not JSON (${(err as Error).message}); quote it, e.g. '[2, 3]'`);
    }
    const ok = kind === 'array' ? Array.isArray(v) : !!v && typeof v === 'object' && !Array.isArray(v);
    if (!ok)
      throw new InvalidArgumentError(`must be a JSON ${kind}, e.g. ${kind === 'array' ? "'[2, 3]'" : `'{"x": 1}'`}`);
    return v;
  };
}

function numberArg(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number >= 0');
  return n;
}

function dateArg(text: string): Date {
  const d = parseIsoTime(text);
  if (!d) throw new InvalidArgumentError('must be an ISO-8601 time, e.g. 2030-01-01T12:00:00Z');
  return d;
}

/** Runs the program and turns library errors into one clear line and exit code 1. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    const message = err instanceof TaskQueueError ? err.message : ((err as Error).stack ?? String(err));
    process.stderr.write(`taskq: ${message}\n`);
    process.exitCode = 1;
  }
}

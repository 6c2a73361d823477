import { Command, InvalidArgumentError } from 'commander';
import { cliContext, ConnectionFlags } from './cli-context';
import { compileArguments, RemoteCommand } from './remote-commands.table';
import { formatNodeReply, nodesOnline } from './remote-reply.format';

/** Python's EX_UNAVAILABLE, what `celery inspect|control` exit with when no worker answers. */
const EX_UNAVAILABLE = 69;
/** click's exit code for a usage error. */
const EX_USAGE = 2;

export interface RemoteFlags {
  destination?: string[];
  timeout: number;
  json?: boolean;
}

/** `-d/--destination`, `-t/--timeout`, `-j/--json`, as `celery inspect|control` take them. */
export function addRemoteFlags(cmd: Command): Command {
  return cmd
    .option('-d, --destination <nodes>', 'comma separated list of destination node names', commaList)
    .option('-t, --timeout <seconds>', 'seconds to wait for replies', seconds, 1)
    .option('-j, --json', 'print the replies as JSON');
}

/**
 * Sends one command and prints the replies as Celery does: `-> node: OK` and the reply per worker
 * (`inspect` adds `N nodes online.`); with `--json`, `inspect` prints one object by node and
 * `control` the list of replies, as Celery's `--json` does. Nobody answering is an error (exit 69).
 */
export async function runRemoteCommand(
  kind: 'inspect' | 'control',
  program: Command,
  cmd: Command,
  method: string,
  spec: RemoteCommand,
  words: string[],
  o: RemoteFlags,
  out: (line: string) => void,
): Promise<void> {
  let args: Record<string, unknown>;
  try {
    args = compileArguments(method, spec, words);
  } catch (err) {
    cmd.error(`error: ${(err as Error).message}`, { exitCode: EX_USAGE });
  }
  const ctx = cliContext(program.opts<ConnectionFlags>());
  try {
    const replies = await ctx.control.broadcast(method, args, {
      reply: true,
      timeout: o.timeout,
      destination: o.destination,
    });
    if (!replies.length) {
      process.stderr.write('Error: No nodes replied within time constraint\n');
      process.exitCode = EX_UNAVAILABLE;
      return;
    }
    if (o.json) {
      out(JSON.stringify(kind === 'inspect' ? Object.assign({}, ...replies) : replies));
      return;
    }
    for (const r of replies) for (const [node, reply] of Object.entries(r)) out(formatNodeReply(node, reply));
    if (kind === 'inspect') out(nodesOnline(replies.length));
  } finally {
    await ctx.close();
  }
}

function commaList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function seconds(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n))
    throw new InvalidArgumentError(`a positive number of seconds is expected, got '${v}'.`);
  return n;
}

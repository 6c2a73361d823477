import { Command } from 'commander';
import { cliContext, ConnectionFlags } from './cli-context';

/** Python's EX_UNAVAILABLE, what `celery status` exits with when no worker answers. */
const EX_UNAVAILABLE = 69;

/** `taskq status`: the workers that answer a ping, like `celery status`. */
export function registerStatusCommand(program: Command, out: (line: string) => void): void {
  program
    .command('status')
    .description('list the workers that answer a ping (ours and Python Celery workers), like celery status')
    .option('-t, --timeout <seconds>', 'seconds to wait for replies', Number, 1)
    .option('--json', 'print the replies as JSON')
    .action(async (o: { timeout: number; json?: boolean }) => {
      const ctx = cliContext(program.opts<ConnectionFlags>());
      try {
        const replies = await ctx.control.ping({ timeout: o.timeout });
        const nodes = Object.assign({}, ...replies) as Record<string, unknown>;
        const names = Object.keys(nodes).sort();
        if (o.json) out(JSON.stringify(nodes));
        else
          for (const n of names)
            out(`-> ${n}: OK\n        ${String((nodes[n] as { ok?: unknown })?.ok ?? JSON.stringify(nodes[n]))}`);
        if (!names.length) {
          process.stderr.write('Error: No nodes replied within time constraint\n');
          process.exitCode = EX_UNAVAILABLE;
          return;
        }
        if (!o.json) out(`\n${names.length} ${names.length === 1 ? 'node' : 'nodes'} online.`);
      } finally {
        await ctx.close();
      }
    });
}

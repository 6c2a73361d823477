import { Command, InvalidArgumentError } from 'commander';
import { startStandaloneDashboard } from '../dashboard/dashboard.standalone';
import { maskUrl } from '../transports/url-mask';
import { connectionOptions, ConnectionFlags } from './connection-options';

/** `taskq dashboard`: the monitoring dashboard as its own server (Flower's `celery flower`). */
export function registerDashboardCommand(program: Command, out: (line: string) => void): void {
  program
    .command('dashboard')
    .description('serve the monitoring dashboard (workers, queues, tasks, actions, /metrics) until stopped')
    .option('-p, --port <port>', 'port to listen on', portArg, 5555)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--basic-auth <user:password>',
      'require HTTP Basic auth (repeatable, or comma-separated)',
      collectAuth,
      [] as string[],
    )
    .option('--read-only', 'show only: no revoke, purge or worker control')
    .option('--max-tasks <n>', 'tasks kept in the history (oldest dropped first)', portArg, 100_000)
    .action(async (o: { port: number; host: string; basicAuth: string[]; readOnly?: boolean; maxTasks: number }) => {
      const taskQueue = connectionOptions(program.opts<ConnectionFlags>());
      const dash = await startStandaloneDashboard({
        taskQueue,
        port: o.port,
        host: o.host,
        basicAuth: o.basicAuth,
        readOnly: !!o.readOnly,
        monitor: { maxTasks: o.maxTasks },
      });
      out(
        `taskq dashboard on ${dash.url} (broker ${maskUrl(taskQueue.brokerUrl!)}${o.readOnly ? ', read-only' : ''}${o.basicAuth.length ? ', basic auth' : ''})`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await dash.close();
    });
}

function portArg(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number >= 0');
  return n;
}

function collectAuth(value: string, previous: string[]): string[] {
  const pairs = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of pairs) if (!p.includes(':')) throw new InvalidArgumentError('must be user:password');
  return [...previous, ...pairs];
}

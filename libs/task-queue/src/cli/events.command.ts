import { Command, InvalidArgumentError } from 'commander';
import { EventReceiver } from '../monitor/event.receiver';
import { CeleryEvent } from '../monitor/celery-event';
import { cliContext, ConnectionFlags } from './cli-context';

/** `taskq events`: a live tail of Celery events, like `celery events --dump`. */
export function registerEventsCommand(program: Command, out: (line: string) => void): void {
  program
    .command('events')
    .description('print every Celery event (workers and tasks) as it arrives, like celery events --dump')
    .option('--json', 'one JSON object per line instead')
    .option('-n, --count <n>', 'exit after this many events', countArg)
    .option('-t, --timeout <seconds>', 'exit after this many seconds', countArg)
    .option('--no-heartbeats', 'leave out worker-heartbeat events')
    .action(async (o: { json?: boolean; count?: number; timeout?: number; heartbeats: boolean }) => {
      const ctx = cliContext(program.opts<ConnectionFlags>());
      let seen = 0;
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      const receiver = new EventReceiver(ctx.broker, (e) => {
        if (!o.heartbeats && e.type === 'worker-heartbeat') return;
        out(o.json ? JSON.stringify(e) : dumpLine(e));
        if (o.count !== undefined && ++seen >= o.count) done();
      });
      const onSignal = () => done();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const timer = o.timeout !== undefined ? setTimeout(done, o.timeout * 1000) : null;
      try {
        await receiver.start();
        out(
          o.json
            ? JSON.stringify({ type: 'listening', broker: ctx.broker.describe() })
            : `-> taskq events: listening on ${ctx.broker.describe()}`,
        );
        await finished;
      } finally {
        if (timer) clearTimeout(timer);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await receiver.stop();
        await ctx.close();
      }
    });
}

/** `celery events --dump`'s line: `<hostname> [<time>] <type>: field=value, …`. */
function dumpLine(e: CeleryEvent): string {
  const { type, hostname, timestamp, ...rest } = e;
  delete rest.clock;
  delete rest.utcoffset;
  delete rest.pid;
  delete rest.local_received;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  return `${hostname} [${new Date(timestamp * 1000).toISOString()}] ${type}: ${fields}`;
}

function countArg(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

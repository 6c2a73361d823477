import { Command } from 'commander';
import { withBeat } from './beat-cli.context';

/**
 * `taskq beat`: a scheduler on its own (Celery's `celery beat`), until SIGINT/SIGTERM. Any number
 * may run beside workers started with `worker.beat`; one leads, the others stand by.
 */
export function beatCommand(program: Command, out: (line: string) => void): Command {
  const cmd = new Command('beat')
    .description('run a periodic-task scheduler until interrupted (safe to run several: one leads)')
    .option(
      '--store <url>',
      'beat store (default: $TASKQUEUE_BEAT_STORE, else the Redis broker or Redis result backend)',
    )
    .action(async (o: { store?: string }) => {
      await withBeat({ ...program.opts(), store: o.store }, async (beat) => {
        const scheduler = await beat.startScheduler();
        out(
          `beat: node ${scheduler.node} running${scheduler.isLeader() ? ' (leader)' : ' (standing by)'}; Ctrl-C to stop.`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        out(`beat: stopping (sent ${scheduler.stats.sent}).`);
      });
    });
  return cmd;
}

import { TaskPublisher } from '../publish/task.publisher';
import { TaskRegistry } from '../registry/task.registry';
import { resolveBeatOptions } from '../beat/beat.config';
import { BeatService } from '../beat/beat.service';
import { CliContext, ConnectionFlags, cliContext } from './cli-context';

/** Flags of the schedule and beat commands on top of the connection flags. */
export interface BeatFlags extends ConnectionFlags {
  /** beat.store (default: $TASKQUEUE_BEAT_STORE, else as the module decides). */
  store?: string;
}

/** A BeatService built without Nest, on the CLI's broker and backend; closes everything after `fn`. */
export async function withBeat(
  flags: BeatFlags,
  fn: (beat: BeatService, ctx: CliContext) => Promise<void>,
): Promise<void> {
  const ctx = cliContext(flags);
  try {
    const registry = new TaskRegistry();
    const publisher = new TaskPublisher(ctx.broker, ctx.config, registry);
    const beatOptions = resolveBeatOptions(
      { beat: { store: flags.store ?? (process.env.TASKQUEUE_BEAT_STORE || undefined) } },
      ctx.config,
    );
    const beat = new BeatService(ctx.config, beatOptions, registry, publisher, ctx.backend);
    try {
      await fn(beat, ctx);
    } finally {
      await beat.stopScheduler();
      await beat.onApplicationShutdown();
    }
  } finally {
    await ctx.close();
  }
}

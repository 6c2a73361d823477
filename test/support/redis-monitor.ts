import Redis, { RedisOptions } from 'ioredis';
import { REDIS_HOST, REDIS_PORT } from './test-env';

/** One command as Redis's MONITOR reported it. */
export interface MonitoredCommand {
  /** Lower-case command name, then its arguments. */
  args: string[];
  /** Client address (`ip:port`), or `lua` for a command run inside a script. */
  source: string;
}

/** A consumer's reserve call (reserve.script.ts): the script run with its `_taskq.reserve.<id>` receipt key. */
export interface ReserveCall {
  /**
   * The time (ms) the reserve moved due delayed messages by: ARGV[6], the consumer's clock when it
   * called, or for a reserve sent behind a blocking wait (ARGV[6] = -1) the server's clock when it ran,
   * read from the script's ZRANGEBYSCORE of a delayed set (`-inf` to that time).
   */
  nowMs: number;
  /** Position in the command log. */
  index: number;
}

/**
 * The commands the test Redis server runs, in order (MONITOR), for one DB. Lets a test check what a
 * client did and in which order (a blocking wait and its timeout, a consumer's reserve calls) instead
 * of how long it took, which a busy machine can stretch.
 */
export class CommandLog {
  readonly all: MonitoredCommand[] = [];
  /** Errors of the MONITOR connection other than the start-up race above. */
  readonly errors: Error[] = [];

  private constructor(private readonly conns: Redis[]) {}

  static async start(db: number): Promise<CommandLog> {
    // What ioredis's monitor() does, with the error listener attached before the connection opens:
    // ioredis reports MONITOR lines that arrive in the same read as MONITOR's own +OK (a busy server)
    // as a "Command queue state error" on this connection. Those lines predate the test's actions, so
    // they are dropped instead of failing the suite with an unhandled 'error' event.
    const monitor = new Redis({ host: REDIS_HOST, port: REDIS_PORT, monitor: true } as RedisOptions);
    const log = new CommandLog([monitor]);
    monitor.on('error', (err: Error) => {
      if (!/Command queue state error/.test(err.message)) log.errors.push(err);
    });
    await new Promise<void>((resolve, reject) => {
      monitor.once('monitoring', () => resolve());
      monitor.once('end', () => reject(new Error('The MONITOR connection closed before monitoring started.')));
    });
    monitor.on('monitor', (_time: string, args: string[], source: string, database: string) => {
      if (Number(database) === db)
        log.all.push({ args: [String(args[0]).toLowerCase(), ...args.slice(1).map(String)], source });
    });
    return log;
  }

  /** Commands named `name` whose first key starts with `keyPrefix`. */
  named(name: string, keyPrefix = ''): MonitoredCommand[] {
    return this.all.filter((c) => c.args[0] === name && (c.args[1] ?? '').startsWith(keyPrefix));
  }

  /** Index in the log of the first command matching `match`, or -1. */
  indexOf(match: (c: MonitoredCommand) => boolean): number {
    return this.all.findIndex(match);
  }

  /** The reserve calls of the consumers whose keys start with `keyPrefix`, in order. */
  reserves(keyPrefix: string): ReserveCall[] {
    const out: ReserveCall[] = [];
    this.all.forEach((c, index) => {
      if (c.args[0] !== 'evalsha' && c.args[0] !== 'eval') return;
      const numKeys = Number(c.args[2]);
      if (!(c.args[5] ?? '').startsWith(`${keyPrefix}_taskq.reserve.`)) return;
      let nowMs = Number(c.args[3 + numKeys + 5]);
      if (nowMs < 0) {
        const moved = this.all.find(
          (m, i) => i > index && m.source === 'lua' && m.args[0] === 'zrangebyscore' && m.args[1].startsWith(keyPrefix),
        );
        nowMs = moved ? Number(moved.args[3]) : NaN;
      }
      out.push({ nowMs, index });
    });
    return out;
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.disconnect();
  }
}

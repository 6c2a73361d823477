import { Command, InvalidArgumentError } from 'commander';
import { ConfigurationError } from '../errors';
import { decodeJson } from '../protocol/json.codec';
import { BeatEntry, ScheduleSpec } from '../options/beat-options';
import { BeatEntryInfo } from '../beat/beat.service';
import { withBeat } from './beat-cli.context';

interface AddFlags {
  task: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  every?: number;
  cron?: string;
  tz?: string;
  queue?: string;
  expires?: number;
  priority?: number;
  missed?: string;
  limit?: number;
}

/**
 * `taskq schedule add|list|remove|pause|resume`: edits the periodic entries every replica's
 * scheduler reads (the change is sent by the leader from its next tick on).
 */
export function scheduleCommand(program: Command, out: (line: string) => void): Command {
  const flags = () => ({ ...program.opts(), store: (cmd.opts() as { store?: string }).store });
  const cmd = new Command('schedule')
    .description('add, list, remove, pause and resume periodic tasks (stored where every replica sees them)')
    .option(
      '--store <url>',
      'beat store (default: $TASKQUEUE_BEAT_STORE, else the Redis broker or Redis result backend)',
    );

  cmd
    .command('add')
    .description('add or replace an entry: --every seconds or --cron "m h dom mon dow" [--tz zone]')
    .argument('<name>', 'entry name')
    .requiredOption('-t, --task <task>', 'task name, e.g. tasks.cleanup')
    .option('-a, --args <json>', 'positional arguments, a JSON array', json('array'))
    .option('-k, --kwargs <json>', 'keyword arguments, a JSON object', json('object'))
    .option('--every <seconds>', 'every N seconds (slots aligned to the epoch)', positive)
    .option('--cron <expr>', '5-field crontab, Celery semantics (day-of-month AND day-of-week, Sunday = 0)')
    .option('--tz <zone>', 'time zone of --cron (default UTC)')
    .option(
      '-Q, --queue <queue>',
      "queue to send to (default: the scheduler's default queue when it sends, $TASKQUEUE_DEFAULT_QUEUE or celery)",
    )
    .option('--expires <seconds>', 'each send expires after this many seconds', positive)
    .option('--priority <0-9>', 'message priority', Number)
    .option('--missed <policy>', "missed runs: 'once' (default), 'skip' or 'catchup:N'")
    .option('--limit <n>', 'stop after this many sends', positive)
    .action(async (name: string, o: AddFlags) => {
      if ((o.every === undefined) === (o.cron === undefined))
        throw new ConfigurationError('taskq schedule add: give exactly one of --every or --cron.');
      const schedule: ScheduleSpec =
        o.every !== undefined ? { every: o.every } : { cron: o.cron!, ...(o.tz ? { tz: o.tz } : {}) };
      const entry: BeatEntry = { task: o.task, schedule };
      if (o.args) entry.args = o.args;
      if (o.kwargs) entry.kwargs = o.kwargs;
      const options = { queue: o.queue, expires: o.expires, priority: o.priority };
      if (Object.values(options).some((v) => v !== undefined))
        entry.options = JSON.parse(JSON.stringify(options)) as BeatEntry['options'];
      if (o.missed) entry.missed = missedPolicy(o.missed);
      if (o.limit !== undefined) entry.limit = o.limit;
      await withBeat(flags(), async (beat) => {
        await beat.add(name, entry);
        const e = await beat.get(name);
        out(`Entry ${name}: ${e?.schedule}, next run ${e?.nextRunAt?.toISOString() ?? '-'}.`);
      });
    });

  cmd
    .command('list')
    .description('print every entry (schedule, next and last run, runs, paused) and the current leader')
    .option('--json', 'one JSON object per line')
    .action(async (o: { json?: boolean }) => {
      await withBeat(flags(), async (beat) => {
        const [entries, leader] = await Promise.all([beat.list(), beat.leader()]);
        if (o.json) {
          for (const e of entries) out(JSON.stringify(row(e)));
          out(JSON.stringify({ leader: leader ? `${leader.node} (token ${leader.token})` : null }));
          return;
        }
        const rows = [
          ['NAME', 'TASK', 'SCHEDULE', 'NEXT RUN', 'LAST RUN', 'RUNS', 'PAUSED'],
          ...entries.map((e) => Object.values(row(e)).map(String)),
        ];
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        for (const r of rows)
          out(
            r
              .map((c, i) => c.padEnd(widths[i]))
              .join('  ')
              .trimEnd(),
          );
        out(`Leader: ${leader ? `${leader.node} (token ${leader.token})` : 'none (no scheduler is running)'}`);
      });
    });

  for (const [verb, what] of [
    ['remove', 'delete an entry'],
    ['pause', 'stop an entry from firing until resumed'],
    ['resume', 'resume a paused entry at its next slot'],
  ] as const) {
    cmd
      .command(verb)
      .description(what)
      .argument('<name>', 'entry name')
      .action(async (name: string) => {
        await withBeat(flags(), async (beat) => {
          const ok = await beat[verb](name);
          if (!ok) throw new ConfigurationError(`No periodic entry named "${name}" (see taskq schedule list).`);
          out(`Entry ${name}: ${verb === 'remove' ? 'removed' : verb === 'pause' ? 'paused' : 'resumed'}.`);
        });
      });
  }
  return cmd;
}

function row(e: BeatEntryInfo) {
  return {
    name: e.name,
    task: e.task,
    schedule: e.schedule,
    next: e.nextRunAt?.toISOString() ?? '-',
    last: e.lastRunAt?.toISOString() ?? '-',
    runs: e.runs,
    paused: e.paused,
  };
}

function missedPolicy(text: string): BeatEntry['missed'] {
  if (text === 'once' || text === 'skip') return text;
  const m = /^catchup:(\d+)$/i.exec(text);
  if (m && Number(m[1]) >= 1) return { catchUp: Number(m[1]) };
  throw new InvalidArgumentError("--missed must be 'once', 'skip' or 'catchup:N'");
}

function positive(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

function json(kind: 'array' | 'object') {
  return (text: string): unknown => {
    let v: unknown;
    try {
      v = decodeJson(text);
    } catch (err) {
      throw new InvalidArgumentError(`not JSON (${(err as Error).message})`);
    }
    const ok = kind === 'array' ? Array.isArray(v) : !!v && typeof v === 'object' && !Array.isArray(v);
    if (!ok) throw new InvalidArgumentError(`must be a JSON ${kind}`);
    return v;
  };
}

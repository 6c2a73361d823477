import { spawn, ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { OutputWatcher } from './output-watcher';
import { PYTHON, PythonRun } from './python-celery';
import { runProcess } from './run-process';

const APP_DIR = join(__dirname, '..', 'python');
const pyEnv = (env: Record<string, string>) => ({ ...process.env, PYTHONPATH: APP_DIR, ...env });

/** Runs `python3 -m celery -A <app> <args…>` to the end (inspect, status, control). */
export function celeryCli(
  args: string[],
  env: Record<string, string>,
  app = 'celery_app',
  timeoutMs = 30_000,
): Promise<PythonRun> {
  return runProcess(PYTHON, ['-m', 'celery', '-A', app, ...args], {
    cwd: APP_DIR,
    env: pyEnv(env),
    timeoutMs,
    label: `celery ${args.join(' ')}`,
  });
}

/** A long-running celery command (worker, `events --dump`) whose output we watch. */
export interface CeleryProcess {
  readonly process: ChildProcess;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM (warm stop for a worker), then waits for exit. */
  stop(): Promise<void>;
  alive(): boolean;
}

/** Starts `python3 -m celery -A <app> <args…>` and returns at once; wait for its output with waitForOutput. */
export function spawnCelery(args: string[], env: Record<string, string>, app = 'celery_app'): CeleryProcess {
  const child = spawn(PYTHON, ['-m', 'celery', '-A', app, ...args], {
    cwd: APP_DIR,
    env: pyEnv({ PYTHONUNBUFFERED: '1', ...env }),
  });
  const watcher = new OutputWatcher(child, `celery ${args.join(' ')}`);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    process: child,
    output: () => watcher.text,
    alive: () => child.exitCode === null && child.signalCode === null,
    waitForOutput: async (pattern, timeoutMs = 30_000) => {
      await watcher.waitFor(pattern, timeoutMs);
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A Python worker WITH gossip and mingle by default (startPythonWorker turns both off): it reads
 * every `worker.*` event on the DB, so a malformed Node event would kill it (celery-wire.md 8.5).
 * `app` picks another module than celery_app (e.g. celery_redis_app with the shared tasks).
 */
export async function startGossipWorker(opts: {
  broker: string;
  backend?: string;
  queues: string[];
  hostname: string;
  app?: string;
  logLevel?: string;
  gossip?: boolean;
}): Promise<CeleryProcess> {
  const quiet = opts.gossip === false ? ['--without-gossip', '--without-mingle'] : [];
  const w = spawnCelery(
    ['worker', '-P', 'solo', '-l', opts.logLevel ?? 'info', '-Q', opts.queues.join(','), '-n', opts.hostname, ...quiet],
    { TQ_BROKER: opts.broker, TQ_BACKEND: opts.backend ?? '' },
    opts.app,
  );
  await w.waitForOutput(/ready\./, 40_000);
  return w;
}

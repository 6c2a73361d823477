import { spawn, ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { OutputWatcher } from './output-watcher';
import { ProcessRun, runProcess } from './run-process';

/** Debian's interpreter, where Celery 5.2.6 lives (the `python3` on PATH is another one). */
export const PYTHON = '/usr/bin/python3';
const APP_DIR = join(__dirname, '..', 'python');

export type PythonRun = ProcessRun;

/**
 * Runs a Python snippet with `celery_app` importable (as `from celery_app import app`).
 * Env: TQ_BROKER, TQ_BACKEND, … Fails after `timeoutMs`.
 */
export function runPython(code: string, env: Record<string, string> = {}, timeoutMs = 30_000): Promise<PythonRun> {
  return runProcess(PYTHON, ['-c', code], {
    cwd: APP_DIR,
    env: { ...process.env, PYTHONPATH: APP_DIR, ...env },
    timeoutMs,
    label: 'Python snippet',
  });
}

/** Runs a snippet that must print one JSON line last; returns it parsed. Throws with the output otherwise. */
export async function runPythonJson<T = unknown>(
  code: string,
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<T> {
  const r = await runPython(code, env, timeoutMs);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0) throw new Error(`Python exited ${r.code}.\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`Python printed no JSON line.\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

export interface PythonWorker {
  readonly process: ChildProcess;
  /** Everything the worker logged so far. */
  logs(): string;
  /** Waits until the log matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Warm stop (SIGTERM), then waits for exit. */
  stop(): Promise<void>;
  /** SIGKILL, then waits for exit. */
  kill(): Promise<void>;
}

/**
 * Starts a real `celery worker` (solo pool) on the given queues and waits until it says it is ready.
 */
export async function startPythonWorker(opts: {
  /** The app module under test/python (`celery -A <app>`). Default `celery_app`. */
  app?: string;
  /** Extra worker arguments. Default: `--without-mingle --without-gossip`. */
  args?: string[];
  broker: string;
  backend?: string;
  queues: string[];
  hostname: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<PythonWorker> {
  const args = [
    '-m',
    'celery',
    '-A',
    opts.app ?? 'celery_app',
    'worker',
    '-P',
    'solo',
    '-l',
    'info',
    '-Q',
    opts.queues.join(','),
    '-n',
    opts.hostname,
    ...(opts.args ?? ['--without-mingle', '--without-gossip']),
  ];
  const child = spawn(PYTHON, args, {
    cwd: APP_DIR,
    env: { ...process.env, PYTHONPATH: APP_DIR, TQ_BROKER: opts.broker, TQ_BACKEND: opts.backend ?? '', ...opts.env },
  });
  const watcher = new OutputWatcher(child, `Python worker ${opts.hostname}`);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const waitForLog = async (pattern: RegExp, timeoutMs = 20_000) => {
    await watcher.waitFor(pattern, timeoutMs);
  };

  await waitForLog(/ready\./, opts.readyTimeoutMs ?? 30_000);
  return {
    process: child,
    logs: () => watcher.text,
    waitForLog,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A Python string literal (JSON strings are valid Python literals for the characters we use). */
export const py = (s: string): string => JSON.stringify(s);

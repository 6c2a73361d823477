/**
 * Node child processes of the suites: TypeScript files run through ts-node with the `nestjs-celery`
 * path alias, kept running (`startNode`) or run to their end (`runNode`).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { OutputWatcher } from './output-watcher';
import { ProcessRun, runProcess } from './run-process';

export const ROOT = join(__dirname, '..', '..');

/** A Node process running a TypeScript file through ts-node (transpile only) with tsconfig path aliases. */
export interface NodeChild {
  readonly process: ChildProcess;
  readonly pid: number;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or null) and signal once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends the signal if still running and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: boolean;
}

export function startNode(
  file: string,
  args: string[] = [],
  env: Record<string, string | undefined> = {},
  options: { detached?: boolean } = {},
): NodeChild {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', file, ...args],
    {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
      detached: options.detached,
    },
  );
  const watcher = new OutputWatcher(child, file);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  return {
    process: child,
    pid: child.pid!,
    output: () => watcher.text,
    exited,
    get running() {
      return !done;
    },
    waitForOutput: (pattern, timeoutMs = 60_000) => watcher.waitFor(pattern, timeoutMs),
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (!done) child.kill(signal);
      return exited;
    },
  };
}

export type NodeRun = ProcessRun;

/** Runs a TypeScript file to its end (ts-node, path aliases) and collects its output. */
export function runNode(
  file: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 60_000,
): Promise<NodeRun> {
  return runProcess(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', file, ...args],
    {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
      timeoutMs,
      label: `${file} ${args.join(' ')}`,
    },
  );
}

/** Whether a process id is alive (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

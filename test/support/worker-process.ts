import { spawn, ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { OutputWatcher } from './output-watcher';

const ROOT = join(__dirname, '..', '..');

export interface WorkerProcess {
  readonly child: ChildProcess;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Runs apps/worker/src/main.ts (the real worker entry point) as a child process, from source. */
export async function startWorkerProcess(env: Record<string, string>, readyTimeoutMs = 60_000): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'apps/worker/src/main.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
    },
  );
  const watcher = new OutputWatcher(child, 'apps/worker');
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitForOutput = async (pattern: RegExp, timeoutMs = 30_000) => {
    await watcher.waitFor(pattern, timeoutMs);
  };
  await waitForOutput(/ready\./, readyTimeoutMs);
  return { child, output: () => watcher.text, waitForOutput, exited };
}

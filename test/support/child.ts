import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { OutputWatcher } from './output-watcher';

const ROOT = join(__dirname, '..', '..');

/** A TypeScript file run in a child Node process (ts-node, transpile only, tsconfig path aliases), with its output collected. */
export interface Child {
  process: ChildProcess;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startChild(file: string, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', file, ...args], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
  });
  const watcher = new OutputWatcher(child, `Child ${file}`);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    process: child,
    output: () => watcher.text,
    waitForOutput: (pattern, timeoutMs = 30_000) => watcher.waitFor(pattern, timeoutMs),
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

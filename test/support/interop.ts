/**
 * Helpers of the worker-level interop suites (test/interop): Node child processes run through
 * ts-node with the `nestjs-celery` path alias, a Redis inspector, and key clean-up.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { OutputWatcher } from './output-watcher';
import Redis from 'ioredis';
import { REDIS_HOST, REDIS_PORT, redisUrlFor } from './test-env';

export const ROOT = join(__dirname, '..', '..');
export { REDIS_HOST };
export const redisUrl = (db: number): string => redisUrlFor(db);

/** kombu's separator between a queue name and its priority step. */
const SEP = '\x06\x16';

/** A plain client for looking at keys (RESP2, like the library). */
export function inspector(db: number): Redis {
  return new Redis({ host: REDIS_HOST, port: REDIS_PORT, db, protocol: 2, maxRetriesPerRequest: 1 });
}

/** Every Redis key a queue can own: its four priority lists, its binding set and its dead-letter list. */
export function queueKeys(queue: string, prefix = ''): string[] {
  return [
    `${prefix}${queue}`,
    `${prefix}${queue}${SEP}3`,
    `${prefix}${queue}${SEP}6`,
    `${prefix}${queue}${SEP}9`,
    `${prefix}_kombu.binding.${queue}`,
    `${prefix}${queue}.dead-letter`,
  ];
}

/** How many messages wait in a queue's four priority lists. */
export async function waiting(r: Redis, queue: string, prefix = ''): Promise<number> {
  const lens = await Promise.all(queueKeys(queue, prefix).slice(0, 4).map((k) => r.llen(k)));
  return lens.reduce((a, b) => a + b, 0);
}

/** Entries of the `unacked` hash whose routing key or envelope mentions `needle` (e.g. a queue name). */
export async function unackedFor(r: Redis, needle: string, prefix = ''): Promise<string[]> {
  const all = await r.hgetall(`${prefix}unacked`);
  return Object.entries(all)
    .filter(([, v]) => v.includes(needle))
    .map(([tag]) => tag);
}

/** Deletes every key with a prefix (never FLUSHDB: other suites share the server). */
export async function deletePrefix(r: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    if (keys.length) await r.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Deletes `celery-task-meta-<id>` of each id. */
export async function deleteResults(r: Redis, ids: Iterable<string>, prefix = ''): Promise<void> {
  const keys = [...ids].map((id) => `${prefix}celery-task-meta-${id}`);
  for (let i = 0; i < keys.length; i += 500) await r.del(...keys.slice(i, i + 500));
}

/** Removes members of kombu binding sets that name one of our queues or hostnames (a killed Python worker leaves its pidbox binding). */
export async function removeBindingsMentioning(r: Redis, needles: string[]): Promise<void> {
  for (const key of await r.keys('_kombu.binding.*')) {
    for (const m of await r.smembers(key)) if (needles.some((n) => m.includes(n))) await r.srem(key, m);
  }
}

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

export function startNode(file: string, args: string[] = [], env: Record<string, string | undefined> = {}, options: { detached?: boolean } = {}): NodeChild {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', file, ...args], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
    detached: options.detached,
  });
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

export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript file to its end (ts-node, path aliases) and collects its output. */
export function runNode(file: string, args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', file, ...args], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} timed out after ${timeoutMs} ms.\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
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

/** A Python string literal (JSON strings are valid Python literals for the characters we use). */
export const py = (s: string): string => JSON.stringify(s);

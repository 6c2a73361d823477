import { execFileSync, spawn } from 'node:child_process';
import Redis from 'ioredis';
import { uniqueName, waitFor } from '../support/wait';
import { ROOT, isAlive } from '../support/node-process';
import { deleteResults, inspector, queueKeys, redisUrl, removeBindingsMentioning } from '../support/redis-test.helpers';
import { suiteDb } from '../support/test-env';

/** Every descendant pid of a process (from `ps`), children first. */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of rows)
      if (pp === p) {
        out.push(c);
        walk(c);
      }
  };
  walk(pid);
  return out;
}

/**
 * `npm run demo` with a Redis broker (DB 9): the api and, as a separate process, the example
 * worker. It must print the results of the seed task and the others, then stop cleanly on Ctrl+C
 * (SIGINT to its process group, as a terminal sends it), its worker child included.
 */
describe('Redis: npm run demo', () => {
  const DB = suiteDb('interopWorkerProcess');
  const URL = redisUrl(DB);
  const queue = uniqueName('interop-demo');
  const hostname = `${uniqueName('demo')}@interop`;
  let r: Redis;
  let out = '';
  let npm: ReturnType<typeof spawn> | undefined;
  let npmExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  const pids: number[] = [];

  beforeAll(() => {
    r = inspector(DB);
  });
  afterAll(async () => {
    // Whatever still runs (only if a test failed): the processes this suite started, by pid.
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (npm && npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    npm?.stdout?.destroy();
    npm?.stderr?.destroy();
    const ids = [...out.matchAll(/taskId ([0-9a-f-]{36})/g)].map((m) => m[1]);
    await deleteResults(r, ids);
    await r.del(...queueKeys(queue));
    // DB 9 belongs to the interop suites: a reserve receipt left by a killed consumer (only after a failure) goes too.
    const receipts = await r.keys('_taskq.reserve.*');
    if (receipts.length) await r.del(...receipts);
    await removeBindingsMentioning(r, [hostname, queue]);
    await r.quit();
  });

  it('prints the results of the seed task and the others, then stops on SIGINT with its worker', async () => {
    npm = spawn('npm', ['run', 'demo'], {
      cwd: ROOT,
      env: {
        ...process.env,
        TASKQUEUE_BROKER_URL: URL,
        TASKQUEUE_DEFAULT_QUEUE: queue,
        TASKQUEUE_HOSTNAME: hostname,
        TASKQUEUE_CONCURRENCY: '4',
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, like a shell job: SIGINT goes to the whole group
    });
    npmExit = new Promise((resolve) => npm!.on('exit', (code, signal) => resolve({ code, signal })));
    // Without the colours Nest's logger adds.
    const collect = (d: Buffer) => (out += d.toString().replace(/\x1b\[[0-9;]*m/g, ''));
    npm.stdout!.on('data', collect);
    npm.stderr!.on('data', collect);

    await waitFor(
      () => /Task completed in 2 seconds!/.test(out) || npm!.exitCode !== null,
      '"Task completed in 2 seconds!" in the demo output',
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nOutput:\n${out}`);
    });
    await waitFor(
      () => /The api keeps serving/.test(out) || npm!.exitCode !== null,
      'the demo to print every result',
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nOutput:\n${out}`);
    });
    expect(out).toContain(`broker ${URL} (worker in its own process)`);
    expect(out).toMatch(/api on http:\/\/127\.0\.0\.1:\d+, broker /);
    expect(out).toMatch(/\(the seed task\)\s+\w+\s+-> SUCCESS\s+"Task completed in 2 seconds!"/);
    expect(out).toMatch(/tasks\.add\(2, 3\)\s+\w+\s+-> SUCCESS\s+5\n/);
    expect(out).toMatch(/tasks\.add\(x=10, y=32\)\s+\w+\s+-> SUCCESS\s+42\n/);
    expect(out).toMatch(/tasks\.xsum\(\[1\.\.10\]\)\s+\w+\s+-> SUCCESS\s+55\n/);
    expect(out).toMatch(/tasks\.fail\("something broke"\)\s+\w+\s+-> FAILURE\s+Error: something broke\n/);
    expect(out).toMatch(/tasks\.sleep\(1\)\s+\w+\s+-> SUCCESS\s+1\n/);
    expect(out).not.toMatch(/demo failed/);
    expect([...out.matchAll(/taskId [0-9a-f-]{36}/g)]).toHaveLength(6);

    // The processes: npm, (sh,) the demo, and the worker the demo spawned.
    const tree = descendants(npm.pid!);
    pids.push(...tree);
    const workerPid = Number(out.match(/\[worker\] \[Nest\] (\d+) /)?.[1]);
    expect(tree).toContain(workerPid);
    expect(tree.length).toBeGreaterThanOrEqual(2);

    // Ctrl+C: SIGINT to the process group (the worker has its own group, so it gets one warm stop from the demo).
    process.kill(-npm.pid!, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      npmExit,
      new Promise<null>((res) => (timer = setTimeout(() => res(null), 60_000))),
    ]);
    clearTimeout(timer);
    expect(exit).not.toBeNull();
    await waitFor(() => tree.every((p) => !isAlive(p)), 'the demo and its worker to exit', 30_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}: still alive ${tree.filter(isAlive).join(', ')}\nOutput:\n${out}`);
      },
    );
    expect(isAlive(workerPid)).toBe(false);
    // The worker got one SIGTERM from the demo's stop(): a warm shutdown (the "[worker]" prefix is per output chunk, not per line).
    expect(out).toMatch(/Shutdown requested \(SIGTERM[^\n]*warm shutdown/);
    expect(out).toMatch(/Warm shutdown: no new tasks/);
    expect(out).not.toMatch(/received again: cold shutdown/);
  }, 300_000);
});

import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputWatcher } from '../../support/output-watcher';

/**
 * Servers the reliability suites start and stop themselves, on ports of their own (never the
 * shared 6379/5672): `TASKQUEUE_TEST_RELIABILITY_PORT_BASE` (default 6400) and up for Redis servers,
 * +20000 for sentinels.
 */
export const RELIABILITY_PORT_BASE = Number(process.env.TASKQUEUE_TEST_RELIABILITY_PORT_BASE ?? 6400);

/** Ports by role, so two suites never pick the same one. */
export const RELIABILITY_PORTS = {
  /** secrets suite: a Redis with an ACL user. */
  secretsRedis: RELIABILITY_PORT_BASE + 0,
  /** startup suite: a Redis started late. */
  startupRedis: RELIABILITY_PORT_BASE + 1,
  /** startup suite: a Redis with restricted ACL users. */
  aclRedis: RELIABILITY_PORT_BASE + 2,
  /** sentinel suite: the first master and its replica. */
  sentinelMaster: RELIABILITY_PORT_BASE + 3,
  sentinelReplica: RELIABILITY_PORT_BASE + 4,
  /** sentinel suite: three Sentinels (26403-26405 by default). */
  sentinels: [RELIABILITY_PORT_BASE + 20003, RELIABILITY_PORT_BASE + 20004, RELIABILITY_PORT_BASE + 20005],
  /** watchdog suite: the black-hole proxy in front of the test Redis. */
  watchdogProxy: RELIABILITY_PORT_BASE + 10,
  /** startup suite: the HTTP port of apps/api. */
  apiHttp: RELIABILITY_PORT_BASE + 15,
  /** a port where nothing listens. */
  dead: RELIABILITY_PORT_BASE + 19,
} as const;

export interface PrivateServer {
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
  /** SIGKILL (default) or SIGTERM, and wait until it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a Redis Sentinel watching `master` (name `name`, quorum 2) with a config file in `dir`. */
export async function startSentinel(
  port: number,
  dir: string,
  name: string,
  masterPort: number,
): Promise<PrivateServer> {
  const file = join(dir, `sentinel-${port}.conf`);
  writeFileSync(
    file,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  return startRedisServer(port, [], [file, '--sentinel']);
}

/** Starts `redis-server` in the foreground (no persistence) and waits until it accepts connections. */
export async function startRedisServer(
  port: number,
  extra: string[] = [],
  before: string[] = [],
): Promise<PrivateServer> {
  // Its own directory: a master writes an RDB file for a replica's first sync, even with --save ''.
  const dir = mkdtempSync(join(tmpdir(), `tq-redis-${port}-`));
  const child = spawn(
    'redis-server',
    [
      ...before,
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const watcher = new OutputWatcher(child, `redis-server :${port}`);
  const exited = new Promise<void>((r) => child.on('exit', () => r())).then(() =>
    rmSync(dir, { recursive: true, force: true }),
  );
  await watcher.waitFor(/Ready to accept connections|Sentinel ID is/, 20_000);
  return {
    port,
    child,
    output: () => watcher.text,
    stop: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

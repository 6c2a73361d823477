import { execFile, spawn, ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputWatcher } from '../../support/output-watcher';

/**
 * A RabbitMQ cluster of private nodes on this machine (never the default node): node names
 * `tqrel1@localhost`…, AMQP ports 5700+, distribution ports 25700+, data and logs under `dir`, the
 * shared Erlang cookie of /var/lib/rabbitmq (HOME points there, so every node and rabbitmqctl agree).
 */
const BIN = '/usr/lib/rabbitmq/bin';
export const AMQP_PORT_BASE = Number(process.env.TASKQUEUE_TEST_RABBIT_PORT_BASE ?? 5700);

export interface RabbitNode {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** SIGKILL the node's process group (the Erlang VM), and wait for it to go. */
  kill(): Promise<void>;
  /** `rabbitmqctl stop`, then wait for the process. */
  stop(): Promise<void>;
}

function envFor(i: number, dir: string): NodeJS.ProcessEnv {
  const base = join(dir, `n${i}`);
  mkdirSync(base, { recursive: true });
  const conf = join(base, 'rabbitmq.conf');
  writeFileSync(conf, `listeners.tcp.local = 127.0.0.1:${AMQP_PORT_BASE + i}\nloopback_users = none\n`);
  const plugins = join(base, 'enabled_plugins');
  writeFileSync(plugins, '[].\n');
  return {
    ...process.env,
    HOME: '/var/lib/rabbitmq',
    RABBITMQ_NODENAME: nodeName(i),
    RABBITMQ_NODE_PORT: String(AMQP_PORT_BASE + i),
    RABBITMQ_DIST_PORT: String(AMQP_PORT_BASE + 20000 + i),
    RABBITMQ_CONFIG_FILE: conf,
    RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
    RABBITMQ_MNESIA_BASE: join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: join(base, 'log'),
    RABBITMQ_PID_FILE: join(base, 'pid'),
  };
}

/** Named after its AMQP port, so two runs with different `TASKQUEUE_TEST_RABBIT_PORT_BASE` never share a node name. */
export function nodeName(i: number): string {
  return `tqrel${AMQP_PORT_BASE + i}@localhost`;
}

/** Runs rabbitmqctl against one node (the shared cookie through HOME). */
export function ctl(node: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      `${BIN}/rabbitmqctl`,
      ['-n', node, ...args],
      { env: { ...process.env, HOME: '/var/lib/rabbitmq' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`rabbitmqctl -n ${node} ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** Starts node `i` in the foreground (own process group) and waits until it accepts connections. */
export async function startRabbitNode(i: number, dir: string): Promise<RabbitNode> {
  const child = spawn(`${BIN}/rabbitmq-server`, [], {
    env: envFor(i, dir),
    cwd: join(dir, `n${i}`), // a crash dump (erl_crash.dump) lands there, not in the repository
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watcher = new OutputWatcher(child, nodeName(i));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  await watcher.waitFor(/Starting broker\.\.\. completed|Server startup complete/, 120_000);
  return {
    name: nodeName(i),
    port: AMQP_PORT_BASE + i,
    child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null)
        await ctl(nodeName(i), 'stop').catch(() => process.kill(-child.pid!, 'SIGKILL'));
      await exited;
    },
  };
}

/** Starts `size` nodes and joins nodes 2… to node 1. */
export async function startCluster(size: number, dir: string): Promise<RabbitNode[]> {
  const started = await Promise.allSettled(Array.from({ length: size }, (_, i) => startRabbitNode(i, dir)));
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    // The caller never gets the nodes that did start: stop them here, or they outlive the run.
    await Promise.all(nodes.map((n) => n.kill()));
    throw failed.reason;
  }
  try {
    for (const n of nodes.slice(1)) {
      await ctl(n.name, 'stop_app');
      await ctl(n.name, 'join_cluster', nodes[0].name);
      await ctl(n.name, 'start_app');
    }
    await ctl(nodes[0].name, 'await_online_nodes', String(size));
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill()));
    throw err;
  }
  return nodes;
}

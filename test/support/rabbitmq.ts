import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { uniqueName } from './wait';
import { VHOST_PREFIX } from './test-env';

const run = promisify(execFile);

/** Runs rabbitmqctl (root may; the test machine runs as root) and returns its stdout. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['-q', ...args], { timeout: 30_000 });
  return stdout;
}

/** A vhost of one suite, so its queues, exchanges and connections never touch anything else. */
export interface TestVhost {
  name: string;
  /** amqp:// URL of the vhost with guest/guest. */
  url: string;
  /** Closes every client connection of this vhost (what a broker restart or a network cut does). */
  closeConnections(): Promise<void>;
  /** Rows of `rabbitmqctl list_<what> -p <vhost> <columns>` as tab-separated cells. */
  list(what: 'queues' | 'exchanges' | 'bindings', columns: string[]): Promise<string[][]>;
  delete(): Promise<void>;
}

export async function createTestVhost(prefix: string): Promise<TestVhost> {
  const name = uniqueName(`${VHOST_PREFIX}-${prefix}`);
  await rabbitmqctl('add_vhost', name);
  await rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  return {
    name,
    url: amqpUrl(name),
    closeConnections: async () => {
      await rabbitmqctl('close_all_connections', '--vhost', name, 'test: connection loss');
    },
    list: async (what, columns) => {
      const out = await rabbitmqctl(`list_${what}`, '-p', name, '--no-table-headers', ...columns);
      return out
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => l.split('\t'));
    },
    delete: async () => {
      await rabbitmqctl('delete_vhost', name);
    },
  };
}

export function amqpUrl(vhost: string, port = 5672): string {
  return `amqp://guest:guest@127.0.0.1:${port}/${encodeURIComponent(vhost)}`;
}

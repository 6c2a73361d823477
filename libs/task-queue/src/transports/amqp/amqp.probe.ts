import { BrokerAuthenticationError, BrokerPermissionError } from '../../errors';
import { BrokerUrlEntry, maskBrokerUrl } from '../broker-url';
import { loadAmqplib } from './amqplib.loader';

/** RabbitMQ's answers to bad credentials (403) and to a vhost the user may not open (530). */
const AMQP_AUTH_ERROR = /ACCESS[_-]REFUSED|\b403\b|PLAIN login refused/i;
const AMQP_VHOST_ERROR = /NOT[_-]ALLOWED|\b530\b/i;

/** The connect arguments amqplib takes as an object, from one entry of a (failover) URL. */
export function amqpConnectTarget(entry: BrokerUrlEntry, heartbeat?: number): Record<string, unknown> {
  return {
    protocol: entry.scheme === 'amqps' ? 'amqps' : 'amqp',
    hostname: entry.hostname || '127.0.0.1',
    port: entry.port ?? (entry.scheme === 'amqps' ? 5671 : 5672),
    username: entry.username ?? 'guest',
    password: entry.password ?? 'guest',
    // kombu: no path or an empty one is the default vhost "/".
    vhost: entry.path || '/',
    heartbeat: heartbeat ?? (entry.query.heartbeat !== undefined ? Number(entry.query.heartbeat) : undefined),
    frameMax: entry.query.frameMax !== undefined ? Number(entry.query.frameMax) : undefined,
  };
}

/** Opens and closes one connection: throws on bad credentials or a forbidden vhost, else resolves. */
export async function probeAmqp(entry: BrokerUrlEntry, timeoutMs: number): Promise<void> {
  const amqp = loadAmqplib();
  const where = maskBrokerUrl(entry.raw);
  const user = entry.username ?? 'guest';
  try {
    const conn = await amqp.connect(amqpConnectTarget(entry) as never, { timeout: timeoutMs });
    conn.on('error', () => undefined);
    await conn.close().catch(() => undefined);
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (AMQP_AUTH_ERROR.test(message)) throw new BrokerAuthenticationError(user, where, 'ACCESS_REFUSED (403)');
    if (AMQP_VHOST_ERROR.test(message)) {
      throw new BrokerPermissionError(
        user,
        where,
        [`access to vhost "${entry.path || '/'}"`],
        'Grant it with `rabbitmqctl set_permissions -p <vhost> <user> ".*" ".*" ".*"`.',
      );
    }
    throw err;
  }
}

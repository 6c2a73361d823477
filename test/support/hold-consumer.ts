/**
 * A child process that consumes one queue with our RedisBroker and never settles anything, so
 * the test can SIGKILL it while it holds messages. Prints `HELD <task id>` per delivery.
 * argv: <broker url> <queue> <prefetch>
 */
import { RedisBroker } from 'nestjs-celery/internal/brokers/redis/redis.broker';
import { resolveOptions } from 'nestjs-celery/internal/options/resolve-options';

const [url, queue, prefetch] = process.argv.slice(2);
const broker = new RedisBroker(url, resolveOptions({ brokerUrl: url }));
void broker.consume({ queues: [queue], prefetch: Number(prefetch) || 1 }, (d) => {
  process.stdout.write(`HELD ${String(d.message.headers.id)}\n`);
});

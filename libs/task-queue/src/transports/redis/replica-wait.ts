import type Redis from 'ioredis';
import { BrokerUnavailableError } from '../../errors';

/**
 * After a publish, waits until `replicas` replicas hold it (Redis `WAIT`), so that a failover right
 * after the publish cannot lose a task the caller was told is sent. Redis replication is
 * asynchronous: without this, the last writes before a master dies may be missing on the replica
 * that Sentinel promotes. WAIT makes them durable on `replicas` replicas, not "never lost" (two
 * failures in a row still can).
 *
 * @throws BrokerUnavailableError when fewer replicas confirmed within `timeoutMs`; the caller may
 * publish again (at-least-once: the first copy may still be delivered).
 */
export async function waitForReplicas(
  conn: Redis,
  replicas: number,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  if (!replicas) return;
  const got = Number(await conn.call('WAIT', String(replicas), String(Math.max(1, Math.floor(timeoutMs)))));
  if (got < replicas) {
    throw new BrokerUnavailableError(
      `Redis at ${describe()} confirmed the publish on ${got} of ${replicas} replica(s) within ${timeoutMs} ms (redis.waitReplicas): it may be lost if the master fails now. Publish again, or lower redis.waitReplicas.`,
    );
  }
}

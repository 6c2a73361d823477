import type Redis from 'ioredis';

/** Extra time a blocking command may take past its own timeout before its connection is presumed dead. */
export const BLOCKING_GRACE_MS = 5000;

/**
 * Guards one blocking command (BRPOP, BLMOVE, BZPOPMIN) whose server-side timeout is `seconds`:
 * Redis answers it by then at the latest, so no answer `BLOCKING_GRACE_MS` later means the socket is
 * a zombie (a master that vanished without a FIN/RST, a failover behind a proxy, a paused server).
 * The watchdog then drops the connection with reconnect on: the command fails with a lost
 * connection (the caller's loop waits for `ready` and blocks again), and a Sentinel-managed
 * connection asks the Sentinels for the master anew. Without it such a consumer waits forever
 * (bullmq#3088, celery#10096).
 */
export function watchBlocking<T>(
  conn: Redis,
  command: Promise<T>,
  seconds: number,
  opts: { onStuck?: () => void; alsoReconnect?: Redis[] } = {},
): Promise<T> {
  if (!(seconds > 0)) return command; // blocks forever by design: nothing to compare with
  const timer = setTimeout(
    () => {
      opts.onStuck?.();
      conn.disconnect(true);
      // The same dead path most likely holds the command connection too (a reply that never comes
      // hangs every command behind it): rebuild it as well; callers retry what was in flight.
      for (const other of opts.alsoReconnect ?? []) if (other.status === 'ready') other.disconnect(true);
    },
    seconds * 1000 + BLOCKING_GRACE_MS,
  );
  timer.unref?.();
  return command.finally(() => clearTimeout(timer));
}

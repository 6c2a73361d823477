import { constants } from 'node:os';
import { PoolWorkerExit } from './pool-worker.handle';

const SIGNAL_NUMBERS = constants.signals as Record<string, number>;

/**
 * Why a pool worker ended, in words a user can act on (Celery's "Worker exited prematurely:
 * signal 9 (SIGKILL)" says nothing about memory; celery#9781, billiard#380).
 */
export function describeExit(exit: PoolWorkerExit, heapLimitMb: number, lastMemoryKiB: number | null): string {
  const limit =
    heapLimitMb > 0
      ? ` of ${heapLimitMb} MB (worker.maxHeapPerChild)`
      : " (Node's default; set worker.maxHeapPerChild to choose it)";
  if (exit.outOfMemory) return `out of memory: it reached its JS heap limit${limit}`;
  if (exit.signal) {
    const n = SIGNAL_NUMBERS[exit.signal];
    const base = `signal ${n ?? '?'} (${exit.signal})`;
    if (exit.signal === 'SIGKILL') {
      const mem =
        lastMemoryKiB !== null ? `; its RSS after its last task was ${Math.round(lastMemoryKiB / 1024)} MiB` : '';
      return `${base}, not sent by this worker: on Linux this is usually the kernel's OOM killer (see dmesg)${mem}`;
    }
    return base;
  }
  if (exit.error) return `it crashed: ${exit.error}`;
  return `exit code ${exit.code}`;
}

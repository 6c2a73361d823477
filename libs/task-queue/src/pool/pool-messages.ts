import { TaskRequestInfo } from '../context/task-context';
import { EncodedError } from './pool-error.codec';

/**
 * The messages between the worker (main thread, which owns every broker and backend connection)
 * and a pool worker. The same shapes go over a worker thread's port and a child process's IPC
 * channel (`serialization: 'advanced'`, so Dates and typed arrays survive both ways).
 */
export type ToPoolWorker =
  /** `measureMemory`: report memory after each task (only maxMemoryPerChild needs it; a thread pays ~µs for it). */
  | { t: 'init'; modulePath: string; exportName: string; measureMemory: boolean }
  | {
      t: 'run';
      id: string;
      task: string;
      args: unknown[];
      kwargs: Record<string, unknown>;
      request: TaskRequestInfo;
      /** What ctx.retry() needs to decide. */
      retry: { maxRetries: number | null; defaultRetryDelay: number };
      /** Already aborted (a soft time limit that passed while the task waited for a pool worker). */
      aborted?: EncodedError;
    }
  | { t: 'abort'; id: string; reason: EncodedError }
  | { t: 'stateDone'; seq: number; error?: EncodedError }
  /** Finish nothing more and exit (recycling, idle timeout, shutdown). */
  | { t: 'exit' };

export type FromPoolWorker =
  | { t: 'ready' }
  | { t: 'bootFailed'; error: EncodedError }
  | { t: 'state'; id: string; seq: number; state: string; meta: unknown }
  | { t: 'done'; id: string; ok: true; value: unknown; memoryKiB: number | null }
  | { t: 'done'; id: string; ok: false; error: EncodedError; memoryKiB: number | null };

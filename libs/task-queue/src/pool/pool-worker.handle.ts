import { FromPoolWorker, ToPoolWorker } from './pool-messages';

/** How a pool worker ended, as its runtime tells it. */
export interface PoolWorkerExit {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it (processes only). */
  signal: NodeJS.Signals | null;
  /** It ran out of memory (JS heap limit reached). */
  outOfMemory: boolean;
  /** An error it died of (an uncaught exception in a thread), if any. */
  error?: string;
}

/** One pool worker, thread or process, seen from the main thread. */
export interface PoolWorkerHandle {
  /** `<pid>:<threadId>`, as the worker itself reports it. */
  readonly id: string;
  readonly kind: 'thread' | 'process';
  send(message: ToPoolWorker): void;
  onMessage(listener: (message: FromPoolWorker) => void): void;
  onExit(listener: (exit: PoolWorkerExit) => void): void;
  /** Stops it at once, even in the middle of a busy loop. */
  kill(): void;
}

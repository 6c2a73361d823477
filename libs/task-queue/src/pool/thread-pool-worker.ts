import { Worker } from 'node:worker_threads';
import { FromPoolWorker, ToPoolWorker } from './pool-messages';
import { PoolWorkerExit, PoolWorkerHandle } from './pool-worker.handle';

/**
 * A pool worker in a worker thread. The thread loads the entry through `require` (eval), so that a
 * worker run from TypeScript sources with a require hook (ts-node) loads it the same way: worker
 * threads inherit the process's `--require` preloads. `terminate()` stops it even inside a busy loop.
 */
export class ThreadPoolWorker implements PoolWorkerHandle {
  readonly kind = 'thread';
  readonly id: string;
  private readonly worker: Worker;
  private lastError: (Error & { code?: string }) | null = null;

  constructor(entry: string, heapMb: number) {
    this.worker = new Worker(`require(require('node:worker_threads').workerData.entry)`, {
      eval: true,
      workerData: { entry },
      resourceLimits: heapMb > 0 ? { maxOldGenerationSizeMb: heapMb } : undefined,
    });
    this.id = `${process.pid}:${this.worker.threadId}`;
    this.worker.on('error', (err) => (this.lastError = err));
  }

  send(message: ToPoolWorker): void {
    this.worker.postMessage(message);
  }

  onMessage(listener: (message: FromPoolWorker) => void): void {
    this.worker.on('message', listener);
  }

  onExit(listener: (exit: PoolWorkerExit) => void): void {
    this.worker.on('exit', (code) =>
      listener({
        code,
        signal: null,
        outOfMemory: this.lastError?.code === 'ERR_WORKER_OUT_OF_MEMORY',
        error: this.lastError?.message,
      }),
    );
  }

  kill(): void {
    void this.worker.terminate();
  }
}

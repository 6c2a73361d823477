import { ChildProcess, fork } from 'node:child_process';
import { FromPoolWorker, ToPoolWorker } from './pool-messages';
import { PoolWorkerExit, PoolWorkerHandle } from './pool-worker.handle';

/** How much of a child's stderr is kept to tell why it died (V8 prints its heap-limit report there). */
const STDERR_TAIL = 8192;

/**
 * A pool worker in a child process (Celery's prefork). It inherits the parent's execArgv (so a
 * ts-node run loads the TypeScript entry too), minus debugger flags that would clash on the port.
 * SIGKILL stops it anywhere. Its stderr is passed through and the tail kept for diagnosis.
 */
export class ProcessPoolWorker implements PoolWorkerHandle {
  readonly kind = 'process';
  readonly id: string;
  private readonly child: ChildProcess;
  private stderrTail = '';

  constructor(entry: string, heapMb: number) {
    const execArgv = process.execArgv.filter((a) => !/^--inspect/.test(a) && !/^--max-old-space-size/.test(a));
    if (heapMb > 0) execArgv.push(`--max-old-space-size=${heapMb}`);
    this.child = fork(entry, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    this.id = `${this.child.pid}:0`;
    this.child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL);
    });
    // A send to a child that just died fails with EPIPE; the exit event tells the story.
    this.child.on('error', () => undefined);
  }

  send(message: ToPoolWorker): void {
    if (this.child.connected) this.child.send(message);
  }

  onMessage(listener: (message: FromPoolWorker) => void): void {
    this.child.on('message', (m) => listener(m as FromPoolWorker));
  }

  onExit(listener: (exit: PoolWorkerExit) => void): void {
    this.child.on('exit', (code, signal) =>
      listener({
        code,
        signal,
        outOfMemory: /heap out of memory|Reached heap limit|Allocation failed/i.test(this.stderrTail),
      }),
    );
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

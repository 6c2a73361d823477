import { ChildProcess } from 'node:child_process';

/**
 * Collects a child process's stdout and stderr and waits for a pattern in them, event-driven:
 * each chunk re-checks the waiters. A wait fails early, with the output, when the child exits first.
 */
export class OutputWatcher {
  private out = '';
  private exitedFlag = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    child: ChildProcess,
    private readonly label: string,
  ) {
    const onData = (d: Buffer) => {
      this.out += d.toString();
      this.poke();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', () => {
      this.exitedFlag = true;
      this.poke();
    });
  }

  get text(): string {
    return this.out;
  }

  waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.out.match(pattern);
        if (m) {
          finish();
          resolve(m);
        } else if (this.exitedFlag) {
          finish();
          reject(new Error(`${this.label} exited before printing ${pattern}. Output:\n${this.out.slice(-6000)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(`${this.label} did not print ${pattern} within ${timeoutMs} ms. Output:\n${this.out.slice(-6000)}`),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private poke(): void {
    for (const w of [...this.waiters]) w();
  }
}

import { describeExit } from './pool-exit.reason';

describe('describeExit', () => {
  it('says exit code, signal, OOM killer or heap limit', () => {
    expect(describeExit({ code: 3, signal: null, outOfMemory: false }, 0, null)).toBe('exit code 3');
    expect(describeExit({ code: null, signal: 'SIGSEGV', outOfMemory: false }, 0, null)).toBe('signal 11 (SIGSEGV)');
    expect(describeExit({ code: null, signal: 'SIGKILL', outOfMemory: false }, 0, 512 * 1024)).toMatch(
      /signal 9 \(SIGKILL\), not sent by this worker: .*OOM killer.*512 MiB/,
    );
    expect(describeExit({ code: 1, signal: null, outOfMemory: true }, 256, null)).toBe(
      'out of memory: it reached its JS heap limit of 256 MB (worker.maxHeapPerChild)',
    );
  });
});

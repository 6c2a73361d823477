/**
 * Runs operations one after another per key (SUBSCRIBE then UNSUBSCRIBE of one channel must not
 * overtake each other), and forgets a key once its last operation is done.
 */
export class KeyedChain {
  private readonly chains = new Map<string, Promise<unknown>>();

  run<T>(key: string, op: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(op);
    this.chains.set(key, next);
    void next
      .finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  /** The operation in flight for a key, if any. */
  current(key: string): Promise<unknown> | undefined {
    return this.chains.get(key);
  }
}

/** Counts background work in flight (deliveries, async invocations, executions, consumer batches). */
export class Activity {
  #pending = 0;
  #waiters: (() => void)[] = [];

  get pending(): number {
    return this.#pending;
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.#pending += 1;
    const done = () => {
      this.#pending -= 1;
      if (this.#pending === 0) {
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const waiter of waiters) waiter();
      }
    };
    work.then(done, done);
    return work;
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** What a test server received, in arrival order, with a way to wait for it instead of sleeping. */
export class Arrivals<T> {
  readonly items: T[] = [];
  readonly #checks = new Set<() => void>();

  constructor(readonly describe: (item: T) => string) {}

  add(item: T): void {
    this.items.push(item);
    for (const check of this.#checks) check();
  }

  /** Resolves with everything received once `done` says so; rejects after `timeoutMs`. */
  waitFor(
    done: (items: readonly T[]) => boolean,
    { timeoutMs = 10_000, description = 'requests' }: { timeoutMs?: number; description?: string } = {},
  ): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this.items)) return;
        this.#checks.delete(check);
        clearTimeout(timer);
        resolve([...this.items]);
      };
      const timer = setTimeout(() => {
        this.#checks.delete(check);
        const seen = this.items.map(this.describe).join(', ');
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}; received: ${seen}`));
      }, timeoutMs);
      this.#checks.add(check);
      check();
    });
  }
}

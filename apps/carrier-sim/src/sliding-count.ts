/** Events within the last `spanMs` of a monotonic clock (milliseconds): a carrier's "calls in any one second". */
export class SlidingCount {
  readonly #spanMs: number;
  #times: number[] = [];
  #head = 0;
  /** The most events ever within one span. */
  most = 0;

  constructor(spanMs = 1000) {
    this.#spanMs = spanMs;
  }

  /** Events in (now - span, now]. */
  count(now: number): number {
    while (this.#head < this.#times.length && (this.#times[this.#head] as number) <= now - this.#spanMs)
      this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
    return this.#times.length - this.#head;
  }

  /** Records an event at `now` (never earlier than the last one); returns the count within the span, it included. */
  add(now: number): number {
    const count = this.count(now) + 1;
    this.#times.push(now);
    this.most = Math.max(this.most, count);
    return count;
  }
}

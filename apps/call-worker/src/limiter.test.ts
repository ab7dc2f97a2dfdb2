import { describe, expect, it } from 'vitest';
import { Limiter } from './limiter.ts';

describe('Limiter', () => {
  it('grants up to its limit, then in arrival order as permits come back; a release is counted once', async () => {
    const limiter = new Limiter(2);
    const a = await limiter.acquire();
    const b = await limiter.acquire();
    const order: string[] = [];
    const c = limiter.acquire().then((release) => {
      order.push('c');
      return release;
    });
    const d = limiter.acquire().then((release) => {
      order.push('d');
      return release;
    });
    expect(limiter.waiting).toBe(2);
    a();
    a();
    await c;
    expect(order).toEqual(['c']);
    expect(limiter.active).toBe(2);
    b();
    (await d)();
    expect(order).toEqual(['c', 'd']);
    expect(limiter.active).toBe(1);
  });

  it('drops a waiter whose signal aborts', async () => {
    const limiter = new Limiter(1);
    const held = await limiter.acquire();
    const abort = new AbortController();
    const waiting = limiter.acquire(abort.signal);
    abort.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
    expect(limiter.waiting).toBe(0);
    held();
    expect(limiter.active).toBe(0);
    await expect(limiter.acquire(abort.signal)).rejects.toThrow('stopping');
  });
});

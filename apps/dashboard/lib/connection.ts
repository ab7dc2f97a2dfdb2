'use client';
import { useEffect, useRef, useSyncExternalStore } from 'react';

// Whether the live socket to the gateway is up (for the connection indicators, the wallboard's above all), and how
// many times it came back: what was announced while it was down (a campaign completed, paused...) is not sent again,
// so pages read their state again after each reconnection.
let connected = false;
let everConnected = false;
let reconnections = 0;
const listeners = new Set<() => void>();

export function setConnected(value: boolean): void {
  if (connected === value) return;
  connected = value;
  if (value) {
    if (everConnected) reconnections += 1;
    everConnected = true;
  }
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

export function useConnected(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => connected,
    () => false,
  );
}

/** Calls `refetch` each time the live socket comes back after a loss (not on the first connection). */
export function useRefetchOnReconnect(refetch: () => void): void {
  const count = useSyncExternalStore(
    subscribe,
    () => reconnections,
    () => 0,
  );
  const seen = useRef(count);
  const latest = useRef(refetch);
  latest.current = refetch;
  useEffect(() => {
    if (count === seen.current) return;
    seen.current = count;
    latest.current();
  }, [count]);
}

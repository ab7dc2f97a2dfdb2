'use client';
import { useSyncExternalStore } from 'react';

// Whether the live socket to the gateway is up, for the connection indicators (the wallboard's above all).
let connected = false;
const listeners = new Set<() => void>();

export function setConnected(value: boolean): void {
  if (connected === value) return;
  connected = value;
  for (const listener of listeners) listener();
}

export function useConnected(): boolean {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => connected,
    () => false,
  );
}

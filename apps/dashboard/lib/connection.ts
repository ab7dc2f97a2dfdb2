'use client';
import { useEffect, useRef, useSyncExternalStore } from 'react';

// Whether the live socket to the gateway is up (for the connection indicators, the wallboard's above all), and how
// many times it came back: what was announced while it was down (a campaign completed, paused...) is not sent again,
// so pages read their state again after each reconnection.
let connected = false;
let everConnected = false;
let reconnections = 0;
let credentialEnds = 0;
/** When the page last heard from the gateway on the live socket (a message or a keep-alive pong), ms since epoch. */
let lastHeard: number | null = null;
const listeners = new Set<() => void>();

/** The gateway's close codes for a socket whose credential ended (revoked, signed out, disabled) or was refused. */
const CREDENTIAL_ENDED = new Set([4401, 4403]);

/**
 * Whether a close ended the socket's credential: retrying with it cannot succeed (the gateway refuses a revoked,
 * expired or unknown key or an ended session), so the client does not reconnect.
 */
export function credentialEndedBy(event: unknown): boolean {
  const code = (event as { code?: unknown } | null)?.code;
  return typeof code === 'number' && CREDENTIAL_ENDED.has(code);
}

/** The live socket brought something (a message, a keep-alive's pong): what the page shows is current as of now. */
export function noteHeard(): void {
  lastHeard = Date.now();
}

/** When the live socket last brought anything (null before the first time): the wallboard's "updated N s ago". */
export function lastHeardAt(): number | null {
  return lastHeard;
}

/**
 * The live socket closed: when the gateway closed it because the credential ended (the user was disabled, the
 * session revoked), pages that hold one (SignedIn) look again at who is signed in.
 */
export function noteSocketClosed(code: number): void {
  if (!CREDENTIAL_ENDED.has(code)) return;
  credentialEnds += 1;
  for (const listener of listeners) listener();
}

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

/** Calls `callback` each time `count` grows (not for its first value). */
function useOnIncrease(read: () => number, callback: () => void): void {
  const count = useSyncExternalStore(subscribe, read, () => 0);
  const seen = useRef(count);
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => {
    if (count === seen.current) return;
    seen.current = count;
    latest.current();
  }, [count]);
}

/** Calls `refetch` each time the live socket comes back after a loss (not on the first connection). */
export function useRefetchOnReconnect(refetch: () => void): void {
  useOnIncrease(() => reconnections, refetch);
}

/** Calls `callback` each time the gateway closes the live socket because its credential ended. */
export function useOnCredentialEnded(callback: () => void): void {
  useOnIncrease(() => credentialEnds, callback);
}

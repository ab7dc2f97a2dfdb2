import type { Logger } from './logger.ts';

export interface StartupPhases {
  /** Ends the phase under way (it began at the previous mark, the first one at process start) as `name`. */
  mark(name: string): void;
  /** Logs every phase and the total since the process started, once, at info. */
  done(logger: Logger, message: string, context?: Record<string, unknown>): void;
}

/**
 * Where a process's start goes: each phase's milliseconds, from the process's start (node's own boot and the
 * loading of every module, TypeScript compiled by tsx, is the first phase: mark it first thing in the entry file)
 * to the moment it serves. Logged in one line, so a slow start says which phase took the time.
 */
export function startupPhases(now: () => number = () => performance.now()): StartupPhases {
  const phases: Record<string, number> = {};
  let last = 0;
  let logged = false;
  return {
    mark(name) {
      const at = now();
      phases[name] = Math.round(at - last);
      last = at;
    },
    done(logger, message, context = {}) {
      if (logged) return;
      logged = true;
      logger.info({ ...context, startupMs: Math.round(now()), phasesMs: phases }, message);
    },
  };
}

/**
 * Logs a readiness check's transitions: the first time it is ready (with the milliseconds since the process
 * started), every change after, and why it is not ready (the failing checks). Nothing while it stays the same.
 */
export function readinessLog(logger: Logger, now: () => number = () => performance.now()) {
  let last: boolean | null = null;
  let everReady = false;
  return (ready: boolean, checks: Record<string, string>): void => {
    if (ready === last) return;
    last = ready;
    const sinceStartMs = Math.round(now());
    if (ready) {
      logger.info(everReady ? {} : { sinceStartMs }, everReady ? 'ready again' : 'ready');
      everReady = true;
      return;
    }
    const failing = Object.fromEntries(Object.entries(checks).filter(([, v]) => v !== 'ok'));
    logger.warn({ checks: failing, sinceStartMs }, 'not ready');
  };
}

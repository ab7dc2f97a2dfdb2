import type { OsPackage } from './os-packages.ts';

export type EngineName = 'postgres' | 'redis' | 'kafka' | 'cassandra';

/**
 * One engine of the stack. A local engine is a process this stack starts, with data and log under .stack/; an
 * external one is a server named by an environment variable, which the stack only checks.
 */
export interface Engine {
  readonly name: EngineName;
  /** What clients connect to, for `status`. */
  readonly address: string;
  readonly external: boolean;
  readonly logFile: string | null;
  readonly osPackages: readonly OsPackage[];
  readonly startTimeoutMs: number;
  /** The pid of our running process, or null (never a pid of something else). */
  pid(): number | null;
  /** Idempotent: fetch binaries, create the data folder on first use. */
  prepare(): Promise<void>;
  start(): Promise<void>;
  /** One real round trip (a SQL query, a PING, a metadata request, a CQL statement); throws when not ready. */
  probe(): Promise<void>;
  /** Runs once the engine answers, e.g. creating the application's role and database. */
  afterReady?(): Promise<void>;
  stop(): Promise<void>;
  /** Deletes data kept outside .stack/ (called after stop by `reset`). */
  reset?(): void;
}

import { type SpawnOptions, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export class StackError extends Error {
  override name = 'StackError';
}

/** Runs a command to completion; rejects with its output when it exits non-zero. */
export function run(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { quiet?: boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', (err) => reject(new StackError(`cannot run ${command}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new StackError(`${command} ${args.join(' ')} exited with ${code}:\n${tail(output, 30)}`));
    });
  });
}

/**
 * Starts a long-running engine process detached from this one (it survives the CLI), with stdout and stderr
 * appended to `logFile`, and records its pid.
 */
export function spawnDetached(
  command: string,
  args: readonly string[],
  { logFile, pidFile, env, cwd }: { logFile: string; pidFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env, cwd });
    if (child.pid === undefined) throw new StackError(`cannot start ${command}`);
    child.unref();
    writeFileSync(pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0; it is dead for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * The pid recorded in `pidFile` if that process is still alive and its command line mentions `marker` (our data
 * folder), so a pid reused by an unrelated process after a reboot is never taken for ours. Stale files are removed.
 */
export function recordedPid(pidFile: string, marker: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) return pid;
    } catch {
      // the process ended between the two checks
    }
  }
  rmSync(pidFile, { force: true });
  return null;
}

/** SIGTERM, then SIGKILL after `graceMs` if the process is still there. Resolves when it is gone. */
export async function terminate(pid: number, graceMs: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      await sleep(200);
      return;
    }
    await sleep(100);
  }
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export function tailFile(file: string, lines: number): string {
  try {
    return tail(readFileSync(file, 'utf8'), lines);
  } catch {
    return '(no log yet)';
  }
}

/** Polls `probe` until it succeeds; fails early when `alive` says the process died, or at `timeoutMs`. */
export async function waitUntilReady(
  probe: () => Promise<void>,
  { timeoutMs, alive, intervalMs = 250 }: { timeoutMs: number; alive?: () => boolean; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
    }
    if (alive && !alive())
      throw new StackError(`the process exited before it was ready (${describe(lastError)})`);
    if (Date.now() > deadline) {
      throw new StackError(
        `not ready after ${Math.round(timeoutMs / 1000)} s (last error: ${describe(lastError)})`,
      );
    }
    await sleep(intervalMs);
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

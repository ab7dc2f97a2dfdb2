import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in packages/stack/src). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Data, logs and pid files of the engines the stack runs itself. Ignored by git. */
export const stackDir = path.resolve(process.env.STACK_DIR ?? path.join(repoRoot, '.stack'));

/**
 * Downloaded engine jars, shared by every clone on this machine so a second `up` needs no registry.
 */
export const cacheDir = path.resolve(
  process.env.STACK_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'outbound-stack'),
);

/** A short stable id of this checkout, used where a path outside the repository must not collide with another clone. */
export const checkoutId = createHash('sha256').update(stackDir).digest('hex').slice(0, 10);

export const engineDir = (engine: string) => path.join(stackDir, engine);

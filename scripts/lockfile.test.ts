// The lock is complete: `npm ci` (scripts/with-toolchain.sh, the image) installs from it as it is and refuses a lock
// that lacks a package some locked package asks for, even an optional one for another platform (vite's Windows-only
// `napi-windows-process-start-time` was missing once, docs/decisions.md "Toolchain").
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

interface LockedPackage {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  link?: boolean;
}

/** Every dependency of every locked package that Node's lookup (nested, then each parent) finds no entry for. */
function missingFromLock(packages: Record<string, LockedPackage>): string[] {
  const missing: string[] = [];
  for (const [location, entry] of Object.entries(packages)) {
    if (entry.link) continue;
    const optionalPeers = new Set(
      Object.entries(entry.peerDependenciesMeta ?? {})
        .filter(([, meta]) => meta.optional)
        .map(([name]) => name),
    );
    const wanted = new Set([
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name)),
    ]);
    for (const name of wanted)
      if (!resolves(packages, location, name)) missing.push(`${location || '.'} → ${name}`);
  }
  return missing;
}

function resolves(packages: Record<string, LockedPackage>, from: string, name: string): boolean {
  for (let dir = from; ; dir = parentOf(dir)) {
    if (path.posix.join(dir, 'node_modules', name) in packages) return true;
    if (dir === '') return false;
  }
}

/** `node_modules/a/node_modules/b` → `node_modules/a`; a workspace folder (`apps/x`) → the root (''). */
function parentOf(location: string): string {
  const cut = location.lastIndexOf('/node_modules/');
  return cut < 0 ? '' : location.slice(0, cut);
}

describe('package-lock.json', () => {
  const lock = JSON.parse(readFileSync(path.join(import.meta.dirname, '../package-lock.json'), 'utf8')) as {
    packages: Record<string, LockedPackage>;
  };

  it('has an entry for every dependency a locked package declares, optional and other platforms’ too', () => {
    expect(missingFromLock(lock.packages)).toEqual([]);
  });

  it('finds a missing optional dependency (the lock npm ci refused)', () => {
    const { 'node_modules/napi-windows-process-start-time': _, ...withoutIt } = lock.packages;
    expect(missingFromLock(withoutIt)).toEqual(['node_modules/vite → napi-windows-process-start-time']);
  });
});

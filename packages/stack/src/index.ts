export type { Engine, EngineName } from './engine.ts';
export { ensureOsPackages, type OsPackage } from './os-packages.ts';
export { cacheDir, repoRoot, stackDir } from './paths.ts';
export { down, type EngineReport, engines, reset, status, up } from './stack.ts';

export type { Engine, EngineName } from './engine.ts';
export { ensureOsPackages, type OsPackage } from './os-packages.ts';
export { cacheDir, repoRoot, stackDir } from './paths.ts';
export { down, type EngineReport, engines, reset, status, up } from './stack.ts';
export {
  ensureHelm,
  ensureKubernetesValidate,
  ensureTools,
  HELM_VERSION,
  KUBERNETES_VALIDATE_VERSION,
  type Tools,
} from './tools.ts';

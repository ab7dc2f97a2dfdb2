import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from './paths.ts';
import { describe, run, StackError } from './process.ts';

/**
 * The deployment tools the checks of `npm test` run (docs/decisions.md, "Helm chart"): the Helm CLI and
 * kubernetes-validate, each at a pinned version, installed once per machine into the shared cache beside the engine
 * jars (`<cache>/helm-<version>`, `<cache>/kubernetes-validate-<version>`). Later calls, from any clone, find them
 * there and touch no registry.
 */
export const HELM_VERSION = 'v4.3.2';
export const KUBERNETES_VALIDATE_VERSION = '1.37.0';

export interface Tools {
  helm: string;
  kubernetesValidate: string;
}

/** Both tools, installed if missing. */
export async function ensureTools(): Promise<Tools> {
  return { helm: await ensureHelm(), kubernetesValidate: await ensureKubernetesValidate() };
}

let helmInstall: Promise<string> | null = null;

/**
 * The Helm 4 CLI, built from its module with `go install` (Helm publishes no npm or Debian package, and its release
 * binaries are downloads the machines cannot fetch; the Go module proxy serves the sources). The binary is moved
 * into place only once built, so an interrupted build leaves nothing that passes for it; one that does not report
 * the pinned version is built again (a new pin, or a damaged file).
 */
export function ensureHelm(): Promise<string> {
  helmInstall ??= installHelm().catch((err: unknown) => {
    helmInstall = null;
    throw err;
  });
  return helmInstall;
}

async function installHelm(): Promise<string> {
  const dir = path.join(cacheDir, `helm-${HELM_VERSION}`);
  const bin = path.join(dir, 'bin', 'helm');
  if (existsSync(bin) && (await helmVersion(bin)) === HELM_VERSION) return bin;
  const staging = path.join(dir, `staging-${process.pid}`);
  mkdirSync(path.dirname(bin), { recursive: true });
  process.stderr.write(
    `[tools] building helm ${HELM_VERSION} with go install (once per machine, a few minutes)\n`,
  );
  try {
    // The version Helm reports (and templates see as .Capabilities.HelmVersion) is set at link time, as its release
    // build does; without it `helm version` says "v4.3".
    const ldflags = `-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}`;
    await run('go', ['install', '-ldflags', ldflags, `helm.sh/helm/v4/cmd/helm@${HELM_VERSION}`], {
      env: { ...process.env, GOBIN: staging, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
    });
    renameSync(path.join(staging, 'helm'), bin);
  } catch (err) {
    throw new StackError(
      `cannot install helm ${HELM_VERSION}: ${describe(err)}\n` +
        `It is built with Go (go install helm.sh/helm/v4/cmd/helm@${HELM_VERSION}, Go >= 1.26 and the Go module ` +
        `proxy needed). Install Go, or put a helm ${HELM_VERSION} binary at ${bin}.`,
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return bin;
}

/** The version a helm binary reports, or null when it does not run. */
async function helmVersion(bin: string): Promise<string | null> {
  try {
    return (await run(bin, ['version', '--template', '{{.Version}}'])).trim();
  } catch {
    return null;
  }
}

let validateInstall: Promise<string> | null = null;

/**
 * kubernetes-validate (PyPI; the Kubernetes JSON schemas are bundled, so it validates offline), in a virtual
 * environment of its own made with the machine's python3. Marked complete only after pip succeeded; an incomplete
 * one is made again.
 */
export function ensureKubernetesValidate(): Promise<string> {
  validateInstall ??= installKubernetesValidate().catch((err: unknown) => {
    validateInstall = null;
    throw err;
  });
  return validateInstall;
}

async function installKubernetesValidate(): Promise<string> {
  const dir = path.join(cacheDir, `kubernetes-validate-${KUBERNETES_VALIDATE_VERSION}`);
  const bin = path.join(dir, 'bin', 'kubernetes-validate');
  const complete = path.join(dir, '.complete');
  if (existsSync(complete)) return bin;
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(
    `[tools] installing kubernetes-validate ${KUBERNETES_VALIDATE_VERSION} into ${dir} (once per machine)\n`,
  );
  try {
    await run('python3', ['-m', 'venv', dir]);
    await run(path.join(dir, 'bin', 'pip'), [
      'install',
      '--quiet',
      '--disable-pip-version-check',
      `kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}`,
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new StackError(
      `cannot install kubernetes-validate ${KUBERNETES_VALIDATE_VERSION}: ${describe(err)}\n` +
        'It is installed with pip into a virtual environment: python3 with the venv module and PyPI are needed.',
    );
  }
  writeFileSync(complete, `${new Date().toISOString()}\n`);
  return bin;
}

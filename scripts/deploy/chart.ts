// Rendering the Helm chart (deploy/helm/outbound) with the project's own helm, for the chart's checks and the
// environment drift test.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureHelm, repoRoot } from '@outbound/stack';
import { parseAllDocuments } from 'yaml';

export const CHART_DIR = path.join(repoRoot, 'deploy/helm/outbound');
/** The second values file the checks render: replicas, autoscaling, an Ingress, an existing Secret. */
export const PRODUCTION_VALUES = path.join(CHART_DIR, 'ci/production-values.yaml');

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
}

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export async function helm(args: readonly string[]): Promise<HelmResult> {
  const result = spawnSync(await ensureHelm(), args, { cwd: repoRoot, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RenderOptions {
  /** Values files, in order (the chart's values.yaml always comes first). */
  values?: readonly string[];
  /** `--set` assignments. */
  set?: readonly string[];
}

/** `--values` and `--set` arguments of helm. */
export function valueArgs({ values = [], set = [] }: RenderOptions = {}): string[] {
  return [
    ...values.flatMap((file) => ['--values', file]),
    ...set.flatMap((assignment) => ['--set', assignment]),
  ];
}

export function renderArgs(options: RenderOptions = {}): string[] {
  return ['template', 'outbound', CHART_DIR, '--namespace', 'outbound', ...valueArgs(options)];
}

/** `helm template` of the chart; throws with helm's message when it does not render. */
export async function renderChart(
  options: RenderOptions = {},
): Promise<{ text: string; manifests: Manifest[] }> {
  const result = await helm(renderArgs(options));
  if (result.status !== 0) throw new Error(`helm template failed (${result.status}):\n${result.stderr}`);
  const manifests = parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  return { text: result.stdout, manifests };
}

interface Probe {
  httpGet?: { path: string; port: string | number };
}

export interface Container {
  name: string;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}

interface PodSpec {
  serviceAccountName?: string;
  containers?: Container[];
}

/** The pod template's spec of a Deployment or a Job. */
export function podSpecOf(manifest: Manifest): PodSpec {
  return ((manifest.spec?.template ?? {}) as { spec?: PodSpec }).spec ?? {};
}

/** The containers of a Deployment's (or Job's) pod template. */
export function containersOf(manifest: Manifest): Container[] {
  return podSpecOf(manifest).containers ?? [];
}

/**
 * The variables a container is given a value for: its `env` (a non-empty value, or a reference) and the keys of the
 * ConfigMaps and Secrets of its `envFrom` that this render holds (with non-empty values). A Secret the chart does
 * not render (existingSecret) contributes only what `env` names from it.
 */
export function containerVariables(container: Container, manifests: readonly Manifest[]): Set<string> {
  const variables = new Set<string>();
  for (const entry of container.env ?? []) {
    if (entry.valueFrom !== undefined || (entry.value ?? '') !== '') variables.add(entry.name);
  }
  for (const source of container.envFrom ?? []) {
    const [kind, name] = source.configMapRef
      ? ['ConfigMap', source.configMapRef.name]
      : ['Secret', source.secretRef?.name];
    const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
    for (const [key, value] of Object.entries(found?.data ?? {})) if (value !== '') variables.add(key);
  }
  return variables;
}

// The Helm chart's checks in `npm test`: helm lint, helm template with the default values and with
// ci/production-values.yaml, and every rendered manifest validated offline against the schemas of a pinned Kubernetes
// version (kubernetes-validate --strict: unknown fields are errors too). Both tools come from packages/stack/src/tools.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureKubernetesValidate } from '@outbound/stack';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CHART_DIR,
  containersOf,
  helm,
  type Manifest,
  PRODUCTION_VALUES,
  podSpecOf,
  type RenderOptions,
  renderArgs,
  renderChart,
  valueArgs,
} from './chart.ts';

/** The Kubernetes version the manifests are validated against (the chart's kubeVersion is >= 1.30). */
const KUBERNETES_VERSION = '1.33.0';

const scratch = mkdtempSync(path.join(tmpdir(), 'outbound-chart-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const VALUES: Record<string, RenderOptions> = {
  'default values': {},
  'ci/production-values.yaml': { values: [PRODUCTION_VALUES] },
};

async function validate(text: string, name: string) {
  const file = path.join(scratch, `${name.replace(/\W+/g, '-')}.yaml`);
  writeFileSync(file, text);
  const result = spawnSync(
    await ensureKubernetesValidate(),
    ['--strict', '--quiet', '--kubernetes-version', KUBERNETES_VERSION, file],
    { encoding: 'utf8' },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const byKind = (manifests: readonly Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);

describe('Helm chart deploy/helm/outbound', () => {
  for (const [label, options] of Object.entries(VALUES)) {
    it(`passes helm lint --strict (${label})`, async () => {
      const result = await helm(['lint', '--strict', CHART_DIR, ...valueArgs(options)]);
      expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
      expect(result.status).toBe(0);
    });

    it(`renders manifests valid for Kubernetes ${KUBERNETES_VERSION} (${label})`, async () => {
      const { text, manifests } = await renderChart(options);
      expect(byKind(manifests, 'Deployment').length).toBeGreaterThanOrEqual(9);
      const { status, output } = await validate(text, label);
      // --quiet: only what did not validate (and warnings) is printed.
      expect(output).toBe('');
      expect(status).toBe(0);
    });
  }

  it('renders a Deployment per process, each probed on its health endpoints, with a budget', async () => {
    const { manifests } = await renderChart();
    const deployments = byKind(manifests, 'Deployment');
    for (const deployment of deployments) {
      const [container] = containersOf(deployment);
      const name = deployment.metadata.name;
      expect(container?.livenessProbe?.httpGet?.path, name).toMatch(/^\/(healthz|login)$/);
      expect(container?.readinessProbe?.httpGet?.path, name).toMatch(/^\/(readyz|login)$/);
    }
    const budgets = byKind(manifests, 'PodDisruptionBudget').map((m) => m.metadata.name);
    expect(budgets.sort()).toEqual(deployments.map((m) => m.metadata.name).sort());
    const hooks = byKind(manifests, 'Job').map((m) => m.metadata.annotations?.['helm.sh/hook']);
    expect(hooks).toEqual(['pre-install,pre-upgrade']);
  });

  it('with production values: autoscalers, the Ingress, and secrets only from the existing Secret', async () => {
    const { manifests } = await renderChart({ values: [PRODUCTION_VALUES] });
    expect(byKind(manifests, 'Secret')).toEqual([]);
    expect(byKind(manifests, 'Ingress')).toHaveLength(1);
    const scaled = byKind(manifests, 'HorizontalPodAutoscaler').map((m) => m.metadata.name);
    expect(scaled).toContain('outbound-call-worker');
    expect(scaled).not.toContain('outbound-scheduler');
    const secretRefs = byKind(manifests, 'Deployment')
      .flatMap((m) => containersOf(m))
      .flatMap((c) => c.env ?? [])
      .flatMap((e) => {
        const ref = (e.valueFrom as { secretKeyRef?: { name: string } } | undefined)?.secretKeyRef;
        return ref ? [ref.name] : [];
      });
    expect(new Set(secretRefs)).toEqual(new Set(['outbound-production']));
    // The public addresses agree with each other, from the Ingress's host with TLS.
    const config = byKind(manifests, 'ConfigMap').find((m) => m.metadata.name === 'outbound')?.data;
    expect(config).toMatchObject({
      DASHBOARD_PUBLIC_URL: 'https://outbound.example.com',
      CORS_ORIGINS: 'https://outbound.example.com',
      WEBHOOK_PUBLIC_URL: 'https://outbound.example.com',
    });
    const dashboard = byKind(manifests, 'Deployment').find((m) => m.metadata.name === 'outbound-dashboard');
    expect(containersOf(dashboard as Manifest)[0]?.env).toContainEqual({
      name: 'GATEWAY_WS_URL',
      value: 'wss://outbound.example.com/graphql',
    });
  });

  it('gives the migration hook only objects that exist before it: hooks of a lower weight, or the existing Secret', async () => {
    for (const [options, existingSecret] of [
      [{}, null],
      [{ values: [PRODUCTION_VALUES] }, 'outbound-production'],
    ] as const) {
      const { manifests } = await renderChart(options);
      const weight = (m: Manifest) => Number(m.metadata.annotations?.['helm.sh/hook-weight']);
      const [job] = byKind(manifests, 'Job');
      if (!job) throw new Error('no migration Job rendered');
      const createdBefore = (kind: string, name: string) =>
        manifests.some(
          (m) =>
            m.kind === kind &&
            m.metadata.name === name &&
            m.metadata.annotations?.['helm.sh/hook'] === 'pre-install,pre-upgrade' &&
            weight(m) < weight(job),
        );
      const [container] = containersOf(job);
      const refs: [string, string][] = [
        ['ServiceAccount', podSpecOf(job).serviceAccountName ?? 'default'],
        ...(container?.envFrom ?? []).map((e): [string, string] => ['ConfigMap', e.configMapRef?.name ?? '']),
        ...(container?.env ?? []).map((e): [string, string] => [
          'Secret',
          (e.valueFrom as { secretKeyRef: { name: string } }).secretKeyRef.name,
        ]),
      ];
      const missing = refs.filter(
        ([kind, name]) => !createdBefore(kind, name) && !(kind === 'Secret' && name === existingSecret),
      );
      expect(missing).toEqual([]);
    }
  });

  it('refuses values its schema does not describe: a misspelt process, a token shorter than the processes accept', async () => {
    const misspelt = await helm(renderArgs({ set: ['processes.gatway.enabled=true'] }));
    expect(misspelt.status).not.toBe(0);
    expect(misspelt.stderr).toMatch(/additional properties 'gatway' not allowed/);
    const short = await helm(renderArgs({ set: ['telephony.authToken=too-short'] }));
    expect(short.status).not.toBe(0);
    expect(short.stderr).toMatch(/telephony\/authToken/);
  });

  it('refuses to render a termination grace period not longer than the longest drain', async () => {
    const result = await helm(renderArgs({ set: ['terminationGracePeriodSeconds=20'] }));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/terminationGracePeriodSeconds \(20\) must be longer than gateway's drain/);
  });
});

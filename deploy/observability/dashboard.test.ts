// The observability profile against the code: every series the Grafana dashboard queries is one a service
// declares (or prom-client's default process metrics), with the labels it is grouped and filtered by, and
// Prometheus scrapes every service that serves metrics, on that service's port.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const here = import.meta.dirname;
const read = (file: string) => readFileSync(path.join(here, file), 'utf8');

/** Labels every scraped series carries besides its own: the registry's default and Prometheus' target labels. */
const TARGET_LABELS = ['service', 'instance', 'job'];

/** PromQL's functions, aggregations and keywords: every other identifier in an expression names a series. */
const PROMQL_WORDS = new Set(
  (
    'sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ignoring ' +
    'group_left group_right bool and or unless offset rate irate increase delta idelta deriv histogram_quantile ' +
    'clamp clamp_min clamp_max abs ceil floor round sqrt exp ln log2 log10 vector scalar time label_replace ' +
    'label_join sort sort_desc absent absent_over_time changes resets predict_linear avg_over_time ' +
    'min_over_time max_over_time sum_over_time count_over_time last_over_time quantile_over_time'
  ).split(' '),
);

type Series = Map<string, Set<string>>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((file) => !/[/\\](generated|testing)[/\\]/.test(file));
}

function workspaceSources(): string[] {
  return ['apps', 'packages'].flatMap((group) =>
    readdirSync(path.join(root, group))
      .map((name) => path.join(root, group, name, 'src'))
      .filter((dir) => existsSync(dir))
      .flatMap(sourceFiles),
  );
}

function addSeries(series: Series, name: string, type: string, labels: string[]): void {
  const withTarget = [...labels, ...TARGET_LABELS];
  if (type === 'histogram') {
    series.set(`${name}_bucket`, new Set([...withTarget, 'le']));
    series.set(`${name}_sum`, new Set(withTarget));
    series.set(`${name}_count`, new Set(withTarget));
  } else if (type === 'summary') {
    series.set(name, new Set([...withTarget, 'quantile']));
    series.set(`${name}_sum`, new Set(withTarget));
    series.set(`${name}_count`, new Set(withTarget));
  } else {
    series.set(name, new Set(withTarget));
  }
}

/** Every metric the services declare (`new Counter({ name: '…', labelNames: […] … registers })`), as series. */
function declaredSeries(): Series {
  const series: Series = new Map();
  const declaration =
    /new (Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\{\s*name:\s*'([a-z_:][a-z0-9_:]*)'([\s\S]*?)registers/g;
  for (const file of workspaceSources()) {
    for (const [, kind = '', name = '', rest = ''] of readFileSync(file, 'utf8').matchAll(declaration)) {
      const labelList = /labelNames:\s*\[([^\]]*)\]/.exec(rest)?.[1] ?? '';
      const labels = [...labelList.matchAll(/'([a-zA-Z_][a-zA-Z0-9_]*)'/g)].map((m) => m[1] ?? '');
      addSeries(series, name, kind.toLowerCase(), labels);
    }
  }
  return series;
}

/** prom-client's default metrics (process_*, nodejs_*), which every service registers. */
async function defaultSeries(): Promise<Series> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const series: Series = new Map();
  for (const metric of await registry.getMetricsAsJSON()) {
    const labels = new Set(metric.values.flatMap((v) => Object.keys(v.labels)));
    labels.delete('le');
    labels.delete('quantile');
    addSeries(series, metric.name, String(metric.type), [...labels]);
  }
  return series;
}

interface ParsedExpression {
  series: string[];
  labels: string[];
}

/** The series an expression reads and the labels it groups or filters by. */
function parseExpression(expr: string): ParsedExpression {
  const labels: string[] = [];
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  rest = rest.replace(/\{([^}]*)\}/g, (_, matchers: string) => {
    for (const m of matchers.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.push(m[1] ?? '');
    return ' ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ');
  rest = rest.replace(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g, (_, list: string) => {
    labels.push(
      ...list
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    );
    return ' ';
  });
  rest = rest.replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, ' ');
  const series = [...rest.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .map((m) => m[0])
    .filter((word) => !PROMQL_WORDS.has(word));
  return { series, labels };
}

interface Target {
  expr: string;
  legendFormat?: string;
  datasource?: { uid?: string };
}
interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: Target[];
}

const dashboard = JSON.parse(read('grafana/dashboards/outbound.json')) as { uid: string; panels: Panel[] };
const queries = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel, target })),
);

describe('the Grafana dashboard', () => {
  it('reads series and labels out of PromQL', () => {
    expect(
      parseExpression(
        'histogram_quantile(0.95, sum by (group, le) (rate(kafka_consumer_batch_duration_seconds_bucket{topic=~"a.*"}[$__rate_interval])))',
      ),
    ).toEqual({ series: ['kafka_consumer_batch_duration_seconds_bucket'], labels: ['topic', 'group', 'le'] });
    expect(parseExpression('sum(process_cpu_seconds_total) / sum(up) or vector(0)')).toEqual({
      series: ['process_cpu_seconds_total', 'up'],
      labels: [],
    });
  });

  it('queries only series the code declares, grouped by labels they carry', async () => {
    const known = new Map([...(await defaultSeries()), ...declaredSeries()]);
    const problems: string[] = [];
    for (const { panel, target } of queries) {
      const { series, labels } = parseExpression(target.expr);
      if (series.length === 0) problems.push(`${panel.title}: "${target.expr}" reads no series`);
      const carried = new Set(series.flatMap((name) => [...(known.get(name) ?? [])]));
      for (const name of series.filter((s) => !known.has(s)))
        problems.push(`${panel.title}: ${name} is declared nowhere`);
      for (const label of labels.filter((l) => !carried.has(l)))
        problems.push(`${panel.title}: label ${label} is not on ${series.join(', ')}`);
      for (const [, label] of (target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g))
        if (!labels.includes(label ?? ''))
          problems.push(`${panel.title}: legend {{${label}}} is not grouped by`);
    }
    expect(problems).toEqual([]);
  });

  it('covers the pipeline, consumer lag, limits, webhooks and the gateway', () => {
    const queried = new Set(queries.flatMap(({ target }) => parseExpression(target.expr).series));
    for (const series of [
      'call_worker_originated_total',
      'status_worker_transitions_total',
      'retry_worker_retries_total',
      'kafka_consumer_lag',
      'call_worker_dials_in_flight',
      'call_worker_waits_total',
      'webhook_attempts_total',
      'webhook_attempt_seconds_bucket',
      'gateway_http_request_duration_seconds_bucket',
    ])
      expect(queried, series).toContain(series);
  });

  it('uses the provisioned Prometheus data source', () => {
    const uid = /^\s*uid:\s*(\S+)\s*$/m.exec(read('grafana/provisioning/datasources/prometheus.yml'))?.[1];
    expect(uid).toBeTruthy();
    const used = new Set(
      dashboard.panels
        .filter((panel) => panel.type !== 'row')
        .flatMap((panel) => [panel.datasource?.uid, ...(panel.targets ?? []).map((t) => t.datasource?.uid)]),
    );
    expect([...used]).toEqual([uid]);
  });
});

describe('the Prometheus configuration', () => {
  it('scrapes every service that serves metrics, by its compose name, on its metrics port', async () => {
    const config = read('prometheus.yml');
    const servesMetrics = readdirSync(path.join(root, 'apps')).filter((app) => {
      const dir = path.join(root, 'apps', app, 'src');
      return (
        existsSync(dir) &&
        sourceFiles(dir).some((file) =>
          /createMetricsRegistry\(|new Registry\(/.test(readFileSync(file, 'utf8')),
        )
      );
    });
    expect(servesMetrics.length).toBeGreaterThanOrEqual(8);
    for (const app of servesMetrics) {
      const { environmentShape } = (await import(path.join(root, 'apps', app, 'src/environment.ts'))) as {
        environmentShape: Record<string, { parse(value: unknown): unknown }>;
      };
      const prefix = app.toUpperCase().replace(/-/g, '_');
      const key = [`${prefix}_HEALTH_PORT`, `${prefix}_PORT`].find((k) => k in environmentShape);
      expect(key, `${app}: no port variable`).toBeDefined();
      const port = environmentShape[key ?? '']?.parse(undefined);
      expect(config, app).toMatch(
        new RegExp(
          `job_name: ${app}\\n\\s+dns_sd_configs: \\[\\{ names: \\[${app}\\], type: A, port: ${port} \\}\\]`,
        ),
      );
    }
  });
});

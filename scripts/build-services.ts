// `npm run build:services`: every process of the platform bundled by esbuild into dist/ (docs/decisions.md,
// "Compiled services"), run as `node --enable-source-maps dist/<name>.js`. `npm start`, `npm test`, the end-to-end
// harness and the benchmarks call buildServices() first, which does nothing when dist/ is newer than every input.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
export const distDir = path.join(root, 'dist');

/** The long-running services: `apps/<name>/src/index.ts` becomes `dist/<name>.js`. */
export const SERVICES = [
  'gateway',
  'scheduler',
  'call-worker',
  'status-worker',
  'retry-worker',
  'live-bridge',
  'carrier-ingress',
  'carrier-sim',
  'webhook-dispatcher',
] as const;

type Service = (typeof SERVICES)[number];
type EntryPoint = Service | 'setup' | 'tenant' | 'telemetry';

const entryPoints: Record<EntryPoint, string> = {
  ...(Object.fromEntries(SERVICES.map((name) => [name, `apps/${name}/src/index.ts`])) as Record<
    (typeof SERVICES)[number],
    string
  >),
  // npm run setup: migrations, keyspace, topics (the image's one-shot job).
  setup: 'scripts/setup.ts',
  // npm run tenant: the operator's CLI.
  tenant: 'apps/gateway/src/cli/tenant.ts',
  // OpenTelemetry, loaded by `--import` before a service (docs/decisions.md, "Tracing"): off unless configured.
  telemetry: 'packages/observability/src/register.ts',
};

/**
 * Files a bundled module reads beside itself (`import.meta.dirname`) at run time. In a bundle that directory is
 * dist/, so each is copied there under its own name.
 */
const ASSETS = ['apps/gateway/src/auth/common-passwords.txt', 'packages/db/src/unref-timers.cjs'];

/**
 * V8 flags of a process, the same in the image's commands (Dockerfile, docker-compose.yml, the Helm chart's values).
 * The gateway's young generation is capped at 8 MB per semi-space: under a sustained allocation rate (a 1,000,000-row
 * target import) V8 otherwise grows it to 64 MB per semi-space, 128 MB of resident memory for garbage (peak 321 MB
 * against 230 MB at 300,000 rows, same CPU; docs/decisions.md, "Import of 1,000,000 rows").
 */
const V8_FLAGS: Partial<Record<EntryPoint, readonly string[]>> = { gateway: ['--max-semi-space-size=8'] };

/**
 * The command line (after `node`) that runs a compiled process: `dist/<name>.js`, stack traces in TypeScript, and for
 * a service the telemetry module first (the instrumentations can only hook packages loaded after it).
 */
export function compiledArgs(name: Exclude<EntryPoint, 'telemetry'>): string[] {
  const telemetry = (SERVICES as readonly string[]).includes(name)
    ? ['--import', pathToFileURL(path.join(distDir, 'telemetry.js')).href]
    : [];
  return [...(V8_FLAGS[name] ?? []), '--enable-source-maps', ...telemetry, path.join(distDir, `${name}.js`)];
}

/**
 * Imports of packages from node_modules stay imports: Node resolves them at run time from the installed
 * dependencies (the image's production install), and OpenTelemetry's instrumentations hook them as they load. The
 * workspace's own packages (@outbound/*, TypeScript sources) are bundled.
 */
const externalPackages: Plugin = {
  name: 'external-packages',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@outbound/') ? undefined : { path: args.path, external: true },
    );
  },
};

/** What dist/ was built from, and when the build started (an input changed after that may not be in it). */
const stampFile = path.join(distDir, 'build-inputs.json');
interface Stamp {
  startedAt: number;
  inputs: string[];
}

/** Inputs a build does not list among its modules but depends on: configuration and package manifests. */
function configurationInputs(): string[] {
  const manifests = ['apps', 'packages'].flatMap((dir) =>
    readdirSync(path.join(root, dir)).map((name) => path.join(dir, name, 'package.json')),
  );
  return [
    'scripts/build-services.ts',
    'package.json',
    'package-lock.json',
    'tsconfig.base.json',
    ...manifests.filter((file) => existsSync(path.join(root, file))),
  ];
}

function outputs(): string[] {
  return [
    ...Object.keys(entryPoints).flatMap((name) => [`${name}.js`, `${name}.js.map`]),
    ...ASSETS.map((asset) => path.basename(asset)),
  ].map((file) => path.join(distDir, file));
}

/** dist/ holds every output and is newer than every file it was built from (a missing input counts as changed). */
function upToDate(): boolean {
  if (!existsSync(stampFile) || !outputs().every((file) => existsSync(file))) return false;
  const { startedAt, inputs } = JSON.parse(readFileSync(stampFile, 'utf8')) as Stamp;
  return inputs.every((file) => {
    const stat = statSync(path.join(root, file), { throwIfNoEntry: false });
    return stat !== undefined && stat.mtimeMs < startedAt;
  });
}

/**
 * Written to a temporary name, then renamed: a process starting while another build (a parallel test file's)
 * rewrites dist/ reads either the old file or the new one, never half of one.
 */
function writeAtomically(file: string, contents: Uint8Array | string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, file);
}

export interface BuildReport {
  built: boolean;
  ms: number;
}

/** Bundles every entry point into dist/, unless `force` is false and dist/ is up to date. */
export async function buildServices({ force = false }: { force?: boolean } = {}): Promise<BuildReport> {
  const started = performance.now();
  const startedAt = Date.now();
  if (!force && upToDate()) return { built: false, ms: performance.now() - started };
  const result = await build({
    absWorkingDir: root,
    entryPoints,
    outdir: distDir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // dist/<name>.js.map beside each bundle, without the sources' text: stack traces only need the mappings.
    sourcemap: 'linked',
    sourcesContent: false,
    // Scope hoisting renames a class or function whose name another module also uses; pino logs an error's class
    // name (err.type), so names stay as written.
    keepNames: true,
    plugins: [externalPackages],
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(distDir, { recursive: true });
  for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
  for (const asset of ASSETS)
    writeAtomically(path.join(distDir, path.basename(asset)), readFileSync(path.join(root, asset)));
  const inputs = [...new Set([...Object.keys(result.metafile.inputs), ...ASSETS, ...configurationInputs()])];
  const stamp: Stamp = { startedAt, inputs: inputs.sort() };
  writeAtomically(stampFile, `${JSON.stringify(stamp, null, 1)}\n`);
  return { built: true, ms: performance.now() - started };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = await buildServices({ force: true });
  console.log(
    `built ${Object.keys(entryPoints).length} entry points into ${path.relative(process.cwd(), distDir) || '.'}/ in ${Math.round(report.ms)} ms`,
  );
}

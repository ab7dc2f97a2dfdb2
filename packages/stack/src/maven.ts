import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from './paths.ts';
import { run } from './process.ts';

export interface MavenArtifact {
  groupId: string;
  artifactId: string;
  version: string;
  /** Transitive dependencies to leave out (groupId:artifactId). */
  exclusions?: readonly string[];
}

/**
 * The jars of `artifacts` with their runtime dependencies, fetched from Maven Central once per machine into the
 * shared cache (`<cache>/<bundle>/lib`, Maven's own cache being ~/.m2). Later calls, from any clone, find them there
 * and touch no registry.
 */
export async function mavenClasspath(bundle: string, artifacts: readonly MavenArtifact[]): Promise<string[]> {
  const dir = path.join(cacheDir, bundle);
  const lib = path.join(dir, 'lib');
  const complete = path.join(dir, '.complete');
  if (!existsSync(complete)) {
    rmSync(lib, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'pom.xml'), pom(bundle, artifacts));
    process.stderr.write(`[stack] fetching ${bundle} from Maven Central (once per machine)\n`);
    await run('mvn', [
      '-q',
      '-B',
      '-f',
      path.join(dir, 'pom.xml'),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${lib}`,
    ]);
    writeFileSync(complete, `${new Date().toISOString()}\n`);
  }
  return readdirSync(lib)
    .filter((f) => f.endsWith('.jar'))
    .sort()
    .map((f) => path.join(lib, f));
}

function pom(bundle: string, artifacts: readonly MavenArtifact[]): string {
  const deps = artifacts
    .map((a) => {
      const exclusions = (a.exclusions ?? [])
        .map((e) => {
          const [g, n] = e.split(':');
          return `<exclusion><groupId>${g}</groupId><artifactId>${n}</artifactId></exclusion>`;
        })
        .join('');
      return `    <dependency><groupId>${a.groupId}</groupId><artifactId>${a.artifactId}</artifactId><version>${a.version}</version>${
        exclusions ? `<exclusions>${exclusions}</exclusions>` : ''
      }</dependency>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by packages/stack: the engine jars of the local stack. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.outbound.stack</groupId>
  <artifactId>${bundle}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
</project>
`;
}

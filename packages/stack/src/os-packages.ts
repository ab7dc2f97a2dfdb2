import { existsSync, readdirSync } from 'node:fs';
import { run, StackError } from './process.ts';

/** Debian packages the project needs on the machine, and the file that shows each one is installed. */
const PACKAGES = {
  postgresql: () => postgresBinDir() !== null,
  'openjdk-17-jre-headless': () => existsSync(JAVA_17),
  maven: () => existsSync('/usr/bin/mvn'),
  'redis-server': () => existsSync('/usr/bin/redis-server'),
  'docker-compose': () => existsSync('/usr/bin/docker-compose'),
  chromium: () => existsSync('/usr/bin/chromium'),
} as const;

export type OsPackage = keyof typeof PACKAGES;

/** Kafka 4 and Cassandra 5.0 run on Java 17 (Cassandra 5.0 does not support newer), whatever the default java is. */
export const JAVA_17 = '/usr/lib/jvm/java-17-openjdk-amd64/bin/java';

/** The newest installed PostgreSQL's bin folder, e.g. /usr/lib/postgresql/15/bin. */
export function postgresBinDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(`${base}/${v}/bin/initdb`))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? `${base}/${versions[0]}/bin` : null;
}

/**
 * Installs the missing ones with apt-get in one transaction. Needs root, as on the project's machines; elsewhere it
 * says what to install.
 */
export async function ensureOsPackages(names: readonly OsPackage[]): Promise<void> {
  const missing = names.filter((name) => !PACKAGES[name]());
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new StackError(
      `missing OS packages: ${missing.join(' ')}. Install them (sudo apt-get install -y ${missing.join(' ')}) and retry.`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write(`[stack] installing OS packages: ${missing.join(' ')}\n`);
  await run('apt-get', ['update', '-qq'], { env });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  for (const name of missing) {
    if (!PACKAGES[name]())
      throw new StackError(`apt-get installed ${name} but its files are not where expected`);
  }
}

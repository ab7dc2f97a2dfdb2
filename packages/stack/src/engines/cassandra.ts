import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_STACK } from '@outbound/config';
import cassandra from 'cassandra-driver';
import type { Engine } from '../engine.ts';
import { mavenClasspath } from '../maven.ts';
import { JAVA_17 } from '../os-packages.ts';
import { engineDir, repoRoot } from '../paths.ts';
import { recordedPid, spawnDetached, terminate } from '../process.ts';

const { host, port, storagePort } = LOCAL_STACK.cassandra;

export const CASSANDRA_ARTIFACTS = [
  { groupId: 'org.apache.cassandra', artifactId: 'cassandra-all', version: '5.0.9' },
] as const;

function cassandraYaml(dataDir: string): string {
  return `# Written by packages/stack on every start: a single node on loopback, made for tests.
cluster_name: 'outbound-local'
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
commitlog_sync: periodic
commitlog_sync_period: 10000ms
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${host}:${storagePort}"
listen_address: ${host}
rpc_address: ${host}
native_transport_port: ${port}
storage_port: ${storagePort}
ssl_storage_port: ${storagePort + 1}
endpoint_snitch: SimpleSnitch
storage_compatibility_mode: NONE
start_native_transport: true
data_file_directories:
  - ${dataDir}/data
commitlog_directory: ${dataDir}/commitlog
saved_caches_directory: ${dataDir}/saved_caches
hints_directory: ${dataDir}/hints
cdc_raw_directory: ${dataDir}/cdc_raw
`;
}

export function cassandraEngine(
  externalContactPoints: readonly string[] | null,
  localDataCenter: string,
): Engine {
  const contactPoints = externalContactPoints ?? [`${host}:${port}`];
  const dir = engineDir('cassandra');
  const dataDir = path.join(dir, 'data');
  const configFile = path.join(dir, 'cassandra.yaml');
  const pidFile = path.join(dir, 'cassandra.pid');
  const logFile = path.join(dir, 'cassandra.log');
  const conf = path.join(repoRoot, 'packages/stack/conf');
  const local = !externalContactPoints;
  let classpath: string[] = [];

  return {
    name: 'cassandra',
    address: contactPoints.join(','),
    external: !local,
    logFile: local ? logFile : null,
    osPackages: local ? ['openjdk-17-jre-headless', 'maven'] : [],
    startTimeoutMs: 180_000,
    pid: () => (local ? recordedPid(pidFile, configFile) : null),
    async prepare() {
      if (!local) return;
      mkdirSync(dataDir, { recursive: true });
      classpath = await mavenClasspath('cassandra-5.0.9', CASSANDRA_ARTIFACTS);
      writeFileSync(configFile, cassandraYaml(dataDir));
    },
    async start() {
      if (!local) return;
      const jamm = classpath.find((jar) => path.basename(jar).startsWith('jamm-'));
      if (!jamm) throw new Error('the jamm agent jar is missing from the Cassandra classpath');
      const jvmOptions = readFileSync(path.join(conf, 'cassandra-jvm17.options'), 'utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#'));
      // A small initial heap: as root Cassandra mlocks what is committed, so -Xms would be resident at once.
      spawnDetached(
        JAVA_17,
        [
          '-Xms256M',
          '-Xmx1G',
          '-Xss256k',
          ...jvmOptions,
          `-javaagent:${jamm}`,
          '-Djava.net.preferIPv4Stack=true',
          '-Dcassandra-foreground=yes',
          `-Dcassandra.config=file://${configFile}`,
          `-Dcassandra.storagedir=${dataDir}`,
          `-Dcassandra.logdir=${dir}`,
          `-Dlogback.configurationFile=${path.join(conf, 'cassandra-logback.xml')}`,
          '-Dcassandra.skip_wait_for_gossip_to_settle=0',
          '-cp',
          classpath.join(':'),
          'org.apache.cassandra.service.CassandraDaemon',
        ],
        { logFile, pidFile },
      );
    },
    async probe() {
      const client = new cassandra.Client({
        contactPoints: [...contactPoints],
        localDataCenter,
        socketOptions: { connectTimeout: 2000, readTimeout: 5000 },
        pooling: { warmup: false },
      });
      try {
        await client.connect();
        await client.execute('SELECT release_version FROM system.local');
      } finally {
        await client.shutdown();
      }
    },
    async stop() {
      const pid = this.pid();
      if (pid !== null) await terminate(pid, 30_000);
    },
  };
}

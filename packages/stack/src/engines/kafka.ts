import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_STACK } from '@outbound/config';
import { Kafka, logLevel } from 'kafkajs';
import type { Engine } from '../engine.ts';
import { mavenClasspath } from '../maven.ts';
import { JAVA_17 } from '../os-packages.ts';
import { engineDir, repoRoot } from '../paths.ts';
import { recordedPid, run, spawnDetached, terminate } from '../process.ts';

const { host, port, controllerPort } = LOCAL_STACK.kafka;

export const KAFKA_ARTIFACTS = [
  { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: '4.4.0' },
  // Kafka logs through slf4j 1.7; this binding brings log4j2 (api + core).
  { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j-impl', version: '2.25.3' },
] as const;

/** Single-node KRaft (broker and controller in one process); replication 1 everywhere; made for tests. */
function serverProperties(dataDir: string): string {
  return `# Written by packages/stack on every start.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=${host}:${controllerPort}
listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}
advertised.listeners=PLAINTEXT://${host}:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${dataDir}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
# Topics are created by the project (npm run setup) with their partition counts, never by accident.
auto.create.topics.enable=false
`;
}

export function kafkaEngine(externalBrokers: readonly string[] | null): Engine {
  const brokers = externalBrokers ?? [`${host}:${port}`];
  const dir = engineDir('kafka');
  const dataDir = path.join(dir, 'data');
  const configFile = path.join(dir, 'server.properties');
  const pidFile = path.join(dir, 'kafka.pid');
  const logFile = path.join(dir, 'kafka.log');
  const local = !externalBrokers;
  let classpath: string[] = [];
  const java = (mainClass: string, args: string[], heap = '64M') => [
    `-Xmx${heap}`,
    `-Dlog4j2.configurationFile=${path.join(repoRoot, 'packages/stack/conf/kafka-log4j2.properties')}`,
    '-Djava.awt.headless=true',
    '-cp',
    classpath.join(':'),
    mainClass,
    ...args,
  ];

  return {
    name: 'kafka',
    address: brokers.join(','),
    external: !local,
    logFile: local ? logFile : null,
    osPackages: local ? ['openjdk-17-jre-headless', 'maven'] : [],
    startTimeoutMs: 90_000,
    pid: () => (local ? recordedPid(pidFile, configFile) : null),
    async prepare() {
      if (!local) return;
      mkdirSync(dir, { recursive: true });
      classpath = await mavenClasspath('kafka-4.4.0', KAFKA_ARTIFACTS);
      writeFileSync(configFile, serverProperties(dataDir));
      if (!existsSync(path.join(dataDir, 'meta.properties'))) {
        const clusterId = randomBytes(16).toString('base64url');
        await run(
          JAVA_17,
          java('kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', configFile, '--standalone']),
        );
      }
    },
    async start() {
      if (!local) return;
      spawnDetached(
        JAVA_17,
        [
          '-Xms512M',
          '-Xmx512M',
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          ...java('kafka.Kafka', [configFile]).slice(1),
        ],
        { logFile, pidFile },
      );
    },
    async probe() {
      const kafka = new Kafka({
        clientId: 'stack-probe',
        brokers: [...brokers],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 2000,
        retry: { retries: 0 },
      });
      const admin = kafka.admin();
      await admin.connect();
      try {
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('no broker in the cluster metadata');
      } finally {
        await admin.disconnect();
      }
    },
    async stop() {
      const pid = this.pid();
      if (pid !== null) await terminate(pid, 30_000);
    },
  };
}

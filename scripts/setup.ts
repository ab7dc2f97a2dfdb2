// Brings every schema to the current version: PostgreSQL migrations, the Cassandra/Scylla history keyspace and the
// Kafka topics. Idempotent; the engines must be reachable (npm run stack -- up, or the *_URL variables).
// Used by `npm start`, `npm test`, and on its own as `npm run setup` (the compose file's one-shot service).
import { pathToFileURL } from 'node:url';
import { createKafka, ensureTopics } from '@outbound/bus';
import { cassandraEnv, databaseEnv, kafkaEnv, logEnv, parseEnv } from '@outbound/config';
import { deployMigrations } from '@outbound/db/migrations';
import { migrateHistory } from '@outbound/history';
import { createLogger } from '@outbound/observability';

export async function setup(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = parseEnv({ ...databaseEnv, ...kafkaEnv, ...cassandraEnv, ...logEnv }, env);
  const logger = createLogger({
    service: 'setup',
    level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL,
  });
  const started = Date.now();
  const [db, history, topics] = await Promise.all([
    deployMigrations(config.DATABASE_URL),
    migrateHistory(config, logger),
    ensureTopics(createKafka(config, logger), config, logger),
  ]);
  console.log(
    [
      `postgres   migrations ${db.applied.length ? `applied: ${db.applied.join(', ')}` : 'up to date'}`,
      `cassandra  keyspace ${history.keyspace} ${history.applied.length ? `applied: ${history.applied.join(', ')}` : 'up to date'}`,
      `kafka      topics ${topics.created.length ? `created: ${topics.created.length}` : 'up to date'}${topics.grown.length ? `, grown: ${topics.grown.join(', ')}` : ''}${topics.notShrunk.length ? `, more partitions than configured (never shrunk): ${topics.notShrunk.map((t) => `${t.topic} ${t.partitions} > ${t.configured}`).join(', ')}` : ''}`,
      `setup done in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ].join('\n'),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  setup().catch((err: unknown) => {
    console.error(`setup failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}

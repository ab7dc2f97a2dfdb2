import { cassandraEnv, logEnv, parseEnv } from '@outbound/config';
import { createLogger } from '@outbound/observability';
import { migrateHistory } from './migrate.ts';

const config = parseEnv({ ...cassandraEnv, ...logEnv }, process.env);
const logger = createLogger({ service: 'history-migrate', level: config.LOG_LEVEL });

migrateHistory(config, logger).then(
  (report) => {
    logger.info(
      report,
      report.applied.length ? 'history schema migrated' : 'history schema already up to date',
    );
  },
  (err: unknown) => {
    logger.error({ err }, 'history migration failed');
    process.exitCode = 1;
  },
);

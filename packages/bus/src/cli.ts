import { kafkaEnv, logEnv, parseEnv } from '@outbound/config';
import { createLogger } from '@outbound/observability';
import { createKafka } from './client.ts';
import { ensureTopics } from './ensure-topics.ts';

const config = parseEnv({ ...kafkaEnv, ...logEnv }, process.env);
const logger = createLogger({ service: 'topics', level: config.LOG_LEVEL });

ensureTopics(createKafka(config, logger), config, logger).catch((err: unknown) => {
  logger.error({ err }, 'creating kafka topics failed');
  process.exitCode = 1;
});

export type { Backoff } from '@outbound/domain';
export { createKafka } from './client.ts';
export { ensureTopics, type TopicsReport, waitForLeaders } from './ensure-topics.ts';
export {
  type BusProducer,
  createProducer,
  type ProducerOptions,
  partitionOf,
  type TopicMessages,
} from './producer.ts';
export { retryTopicFor, type TopicNames, type TopicSpec, topicNames, topicSpecs } from './topics.ts';
export {
  type BatchConsumer,
  type BatchConsumerOptions,
  type BatchContext,
  type ConsumedMessage,
  createBatchConsumer,
  type PausedPartition,
} from './worker/consumer.ts';
export { classifyFailure, isRetryableError, isStatementFault, RetryableError } from './worker/errors.ts';

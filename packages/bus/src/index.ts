export { createKafka } from './client.ts';
export { ensureTopics, type TopicsReport } from './ensure-topics.ts';
export { retryTopicFor, type TopicNames, type TopicSpec, topicNames, topicSpecs } from './topics.ts';

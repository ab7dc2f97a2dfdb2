import type { KafkaConfig, PartitionedTopic } from '@outbound/config';

/** Topic names (from the seed architecture) plus the post-commit live-update stream, under KAFKA_TOPIC_PREFIX. */
export interface TopicNames {
  dispatch: string;
  status: string;
  deadLetter: string;
  /** Changed calls and counter snapshots, emitted by the status worker after its transaction commits. */
  live: string;
  /**
   * What happened to calls and campaigns, for consumers outside the pipeline (partner webhooks): attempt endings,
   * finished calls and opt-outs from the status worker, campaign status changes from their outbox.
   */
  events: string;
  /** `campaign.calls.retry.{level}`, level 1..KAFKA_RETRY_LEVELS. */
  retry: readonly string[];
}

type TopicConfig = Pick<KafkaConfig, 'KAFKA_TOPIC_PREFIX' | 'KAFKA_RETRY_LEVELS'>;

export function topicNames(config: TopicConfig): TopicNames {
  const name = (base: PartitionedTopic | `campaign.calls.retry.${number}`) =>
    `${config.KAFKA_TOPIC_PREFIX}${base}`;
  return {
    dispatch: name('campaign.calls.dispatch'),
    status: name('campaign.calls.status'),
    deadLetter: name('campaign.calls.deadletter'),
    live: name('campaign.live.updates'),
    events: name('campaign.events'),
    retry: Array.from({ length: config.KAFKA_RETRY_LEVELS }, (_, i) => name(`campaign.calls.retry.${i + 1}`)),
  };
}

/** The retry topic of the n-th attempt's retry: levels grow with attempts and stay at the last one. */
export function retryTopicFor(topics: TopicNames, attempt: number): string {
  const level = Math.min(Math.max(attempt, 1), topics.retry.length);
  return topics.retry[level - 1] as string;
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries: { name: string; value: string }[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The partition count of a topic: its `KAFKA_TOPIC_PARTITIONS` entry, else `KAFKA_PARTITIONS`. */
function partitionsOf(
  config: Pick<KafkaConfig, 'KAFKA_PARTITIONS' | 'KAFKA_TOPIC_PARTITIONS'>,
  topic: PartitionedTopic,
): number {
  return config.KAFKA_TOPIC_PARTITIONS[topic] ?? config.KAFKA_PARTITIONS;
}

/**
 * Every topic the platform uses. Every topic is keyed by campaign id, so its partition count bounds how many
 * instances of its consumer share the load (and one campaign's messages stay in one partition, in order). The
 * dead-letter topic keeps messages for 30 days so they can be inspected and replayed; the call topics and
 * `campaign.events` keep 7 days, enough to replay any outage; live updates are only useful for seconds.
 */
export function topicSpecs(config: KafkaConfig): TopicSpec[] {
  const topics = topicNames(config);
  const spec = (topic: string, base: PartitionedTopic, retentionMs: number): TopicSpec => ({
    topic,
    numPartitions: partitionsOf(config, base),
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    configEntries: [{ name: 'retention.ms', value: String(retentionMs) }],
  });
  return [
    spec(topics.dispatch, 'campaign.calls.dispatch', 7 * DAY_MS),
    spec(topics.status, 'campaign.calls.status', 7 * DAY_MS),
    ...topics.retry.map((topic) => spec(topic, 'campaign.calls.retry', 7 * DAY_MS)),
    spec(topics.deadLetter, 'campaign.calls.deadletter', 30 * DAY_MS),
    spec(topics.live, 'campaign.live.updates', DAY_MS),
    spec(topics.events, 'campaign.events', 7 * DAY_MS),
  ];
}

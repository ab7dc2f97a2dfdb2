import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  cassandraEnv,
  databaseEnv,
  kafkaEnv,
  LOCAL_DATABASE_URL,
  logEnv,
  redisEnv,
} from './infrastructure.ts';
import { ConfigError, parseEnv } from './parse-env.ts';

const everything = { ...databaseEnv, ...redisEnv, ...kafkaEnv, ...cassandraEnv, ...logEnv };

function problemsOf(source: Record<string, string>): readonly string[] {
  try {
    parseEnv(everything, source);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseEnv', () => {
  it('defaults every engine to the local stack', () => {
    const config = parseEnv(everything, {});
    expect(config.DATABASE_URL).toBe(LOCAL_DATABASE_URL);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:29092']);
    expect(config.CASSANDRA_CONTACT_POINTS).toEqual(['127.0.0.1:29042']);
    expect(config.KAFKA_RETRY_LEVELS).toBe(4);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('reads and converts the values it is given', () => {
    const config = parseEnv(everything, {
      DATABASE_URL: 'postgres://app:secret@db.internal:5432/calls',
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      KAFKA_PARTITIONS: '24',
      LOG_LEVEL: 'debug',
    });
    expect(config.DATABASE_URL).toBe('postgres://app:secret@db.internal:5432/calls');
    expect(config.KAFKA_BROKERS).toEqual(['k1:9092', 'k2:9092']);
    expect(config.KAFKA_PARTITIONS).toBe(24);
    expect(config.LOG_LEVEL).toBe('debug');
  });

  it('reads per-topic partition counts over the default, and refuses unknown topics, bad counts and repeats', () => {
    expect(parseEnv(everything, {}).KAFKA_PARTITIONS).toBe(48);
    expect(parseEnv(everything, {}).KAFKA_TOPIC_PARTITIONS).toEqual({});
    expect(
      parseEnv(everything, {
        KAFKA_TOPIC_PARTITIONS: 'campaign.calls.dispatch=96, campaign.calls.retry = 12',
      }).KAFKA_TOPIC_PARTITIONS,
    ).toEqual({ 'campaign.calls.dispatch': 96, 'campaign.calls.retry': 12 });
    for (const [value, reason] of [
      [
        'campaign.calls.retry.1=4',
        /"campaign.calls.retry.1=4": each entry is <topic>=<1-1000>, topic one of /,
      ],
      ['campaign.events=0', /"campaign.events=0": each entry is/],
      ['campaign.events=1001', /"campaign.events=1001": each entry is/],
      ['campaign.events', /"campaign.events": each entry is/],
      ['campaign.events=6,campaign.events=12', /campaign.events is given twice/],
    ] as const)
      expect(problemsOf({ KAFKA_TOPIC_PARTITIONS: value })).toEqual([
        expect.stringMatching(new RegExp(`^KAFKA_TOPIC_PARTITIONS: ${reason.source}`)),
      ]);
  });

  it('treats an empty value as unset', () => {
    expect(parseEnv(everything, { REDIS_URL: '  ' }).REDIS_URL).toBe('redis://127.0.0.1:26379');
  });

  it('lists every bad variable at once, each with its name, the reason and the value given', () => {
    const problems = problemsOf({
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'not a url',
      KAFKA_BROKERS: 'broker-without-port',
      KAFKA_PARTITIONS: '0',
      CASSANDRA_KEYSPACE: 'Bad-Name',
      LOG_LEVEL: 'loud',
    });
    expect(problems).toHaveLength(6);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^DATABASE_URL: must be a URL with scheme postgres or postgresql \(got "mysql:\/\/x"\)$/,
        ),
        expect.stringMatching(/^REDIS_URL: must be a URL with scheme redis or rediss/),
        expect.stringMatching(/^KAFKA_BROKERS: must be a comma-separated list of host:port/),
        expect.stringMatching(/^KAFKA_PARTITIONS: .*(>=|at least).*1/i),
        expect.stringMatching(/^CASSANDRA_KEYSPACE: must be a lower-case CQL identifier/),
        expect.stringMatching(/^LOG_LEVEL: /),
      ]),
    );
  });

  it('names a required variable that is missing', () => {
    expect(() => parseEnv({ SESSION_SECRET: z.string().min(32) }, {})).toThrow(
      /SESSION_SECRET: is required but not set/,
    );
  });

  it('puts the whole list in the error message', () => {
    expect(() => parseEnv(everything, { KAFKA_PARTITIONS: 'many', REDIS_URL: 'x' })).toThrow(
      /Invalid environment:\n {2}- .*\n {2}- /,
    );
  });
});

/** Kafka message headers as KafkaJS gives them (structurally the same as its `IHeaders`). */
export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** The first value of a header as a UTF-8 string, or undefined when it is absent. Header names are case-sensitive. */
export function headerValue(headers: KafkaHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

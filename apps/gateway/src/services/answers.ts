import type pg from 'pg';

// Answers per key of a campaign's counters, with each key's label from the campaign's current call flow.

export interface AnswerCount {
  key: string;
  /** The key's RECORD_ANSWER label in the campaign's current flow; null when the key no longer records an answer. */
  label: string | null;
  calls: number;
}

/** Keypad order: 1-9, 0, *, #. */
const KEYPAD = '1234567890*#';

/**
 * The RECORD_ANSWER keys of the campaign's current flow version and their labels. The stored flow is
 * `@outbound/call-flow`'s ZCallFlow output (validated when saved): `menu` null or `{ keys: [{ key, action, label }] }`.
 */
export async function answerLabels(pool: pg.Pool, campaignId: string): Promise<Map<string, string>> {
  const rows = await pool.query<{ key: string; label: string }>(
    `SELECT k->>'key' AS key, k->>'label' AS label
     FROM campaigns c
     JOIN call_flows f ON f.campaign_id = c.id AND f.version = c.flow_version
     CROSS JOIN LATERAL jsonb_array_elements(CASE jsonb_typeof(f.flow->'menu'->'keys')
                                              WHEN 'array' THEN f.flow->'menu'->'keys' ELSE '[]' END) AS k
     WHERE c.id = $1::uuid AND k->>'action' = 'RECORD_ANSWER'`,
    [campaignId],
  );
  return new Map(rows.rows.map((r) => [r.key, r.label]));
}

/** The counters' `answers` object (key -> calls) as a list in keypad order, keys without calls left out. */
export function answerCounts(answers: unknown, labels: ReadonlyMap<string, string>): AnswerCount[] {
  if (answers === null || typeof answers !== 'object') return [];
  return Object.entries(answers as Record<string, unknown>)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] > 0)
    .sort(([a], [b]) => KEYPAD.indexOf(a) - KEYPAD.indexOf(b))
    .map(([key, calls]) => ({ key, label: labels.get(key) ?? null, calls }));
}

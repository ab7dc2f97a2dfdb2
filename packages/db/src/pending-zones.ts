import type pg from 'pg';

/**
 * The distinct recipient zone groups of a campaign's PENDING calls: a skip scan over the (campaign, status, zone)
 * index (a step per group, whatever the number of calls). The scheduler claims in the open ones; the gateway tells
 * how many calls wait in the closed ones.
 */
export async function pendingZones(pool: pg.Pool, campaignId: string): Promise<string[]> {
  const result = await pool.query<{ timezone: string }>(
    `WITH RECURSIVE zones AS (
       (SELECT timezone FROM calls WHERE campaign_id = $1 AND status = 'PENDING' ORDER BY timezone LIMIT 1)
       UNION ALL
       SELECT (SELECT c.timezone FROM calls c
               WHERE c.campaign_id = $1 AND c.status = 'PENDING' AND c.timezone > zones.timezone
               ORDER BY c.timezone LIMIT 1)
       FROM zones WHERE zones.timezone IS NOT NULL
     )
     SELECT timezone FROM zones WHERE timezone IS NOT NULL`,
    [campaignId],
  );
  return result.rows.map((r) => r.timezone);
}

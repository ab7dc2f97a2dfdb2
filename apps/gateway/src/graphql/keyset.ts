/**
 * A page as the Pothos Prisma plugin describes it (`take` negative for `last`/`before`, `skip: 1` past a cursor),
 * for a keyset read: rows strictly after (before) the cursor's key, the nearest first, at most `limit`, with the
 * field's selection (`include`/`select`) to pass on. Prisma's own cursor pagination is not used where it reads too
 * much: with a compound cursor it reads every row past the cursor and applies `take` afterwards (Prisma 7), as it
 * does for a nested relation's `take`.
 */
export function keysetPage<Query extends { take: number; skip?: number; cursor?: unknown }>(query: Query) {
  const { take, skip: _skip, cursor, ...selection } = query;
  return {
    cursor: (cursor ?? null) as NonNullable<Query['cursor']> | null,
    limit: Math.abs(take),
    backward: take < 0,
    selection: selection as Omit<Query, 'take' | 'skip' | 'cursor'>,
  };
}

/** Rows read nearest first (descending when `backward`), in the ascending order a connection returns. */
export function inKeyOrder<T>(rows: T[], backward: boolean): T[] {
  return backward ? rows.reverse() : rows;
}

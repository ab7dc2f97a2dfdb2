// What an `EXPLAIN (ANALYZE, FORMAT JSON)` says, for tests that hold a read to a bounded cost whatever the table's size.

/** One node of a plan as PostgreSQL ran it. */
export interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** The root node of the JSON plan of one statement (the first row's `QUERY PLAN`). */
export function planRoot(rows: readonly Record<string, unknown>[]): PlanNode {
  const plan = (rows[0]?.['QUERY PLAN'] as { Plan: PlanNode }[] | undefined)?.[0]?.Plan;
  if (!plan) throw new Error('no plan in the EXPLAIN output');
  return plan;
}

/** Every node of a plan, the root first. */
export function* planNodes(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* planNodes(child);
}

/** The most rows any node read: those it returned and those it filtered out, over all its loops. */
export function rowsHandled(nodes: readonly PlanNode[]): number {
  return Math.max(
    ...nodes.map(
      (n) =>
        (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) *
        n['Actual Loops'],
    ),
  );
}

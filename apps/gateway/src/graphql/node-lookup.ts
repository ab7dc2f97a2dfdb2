import { isUuid, NO_ROW_ID } from '@outbound/domain';
import { hasRole } from '../auth/viewer.ts';
import type { GraphQLContext } from './context.ts';
import { refusal } from './errors.ts';

/**
 * The row a `node(id)` lookup reads, scoped to the caller's tenant: another tenant's id, a missing id and an id that
 * is not a UUID (PostgreSQL would fail the query on it) all name no row, and the node is null.
 */
export function tenantRow(id: string, ctx: GraphQLContext): { id: string; tenantId: string } {
  return { id: isUuid(id) ? id : NO_ROW_ID, tenantId: ctx.viewer?.tenantId ?? NO_ROW_ID };
}

/**
 * The same for types only an ADMIN may read (API keys, dead letters). Anybody else is refused before the row is
 * looked up, so the answer is the same whether it exists or not: no existence oracle.
 */
export function adminTenantRow(id: string, ctx: GraphQLContext): { id: string; tenantId: string } {
  if (!hasRole(ctx.viewer, 'ADMIN')) throw refusal(ctx);
  return tenantRow(id, ctx);
}

import type { Role } from '@outbound/db';

/** Who is calling: a logged-in user (session) or a partner system (API key), always inside one tenant. */
export type Actor =
  | { type: 'USER'; id: string; email: string; name: string; sessionId: string }
  | { type: 'API_KEY'; id: string; name: string };

export interface Viewer {
  tenantId: string;
  tenantName: string;
  role: Role;
  actor: Actor;
}

const RANK: Record<Role, number> = { VIEWER: 1, OPERATOR: 2, ADMIN: 3 };

export function hasRole(viewer: Viewer | null, atLeast: Role): boolean {
  return viewer !== null && RANK[viewer.role] >= RANK[atLeast];
}

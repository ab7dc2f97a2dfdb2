import type { GatewayDeps } from '../graphql/context.ts';
import { gqlError } from '../graphql/errors.ts';
import { authenticate, credentialOf, InvalidCredentialError, sessionCookie } from './authenticate.ts';
import type { Viewer } from './viewer.ts';

/**
 * Who sends an HTTP request (/graphql and the downloads alike): `Authorization: Bearer <session token | API key>`,
 * else the session cookie; null when neither is sent. A credential sent on purpose, in the Authorization header, that
 * is not valid is refused (UNAUTHENTICATED). A session cookie that expired or was ended elsewhere is different: the
 * browser keeps sending it and cannot remove an httpOnly cookie, so refusing it would refuse `login` too. The caller
 * is anonymous instead, and `responseCookies` clears the cookie.
 */
export async function requestViewer(
  deps: Pick<GatewayDeps, 'prisma' | 'logger' | 'config'>,
  headers: { get(name: string): string | null },
): Promise<{ viewer: Viewer | null; responseCookies: string[] }> {
  let credential: ReturnType<typeof credentialOf>;
  try {
    credential = credentialOf(headers);
  } catch (err) {
    if (err instanceof InvalidCredentialError) throw gqlError('UNAUTHENTICATED', err.message);
    throw err;
  }
  if (!credential) return { viewer: null, responseCookies: [] };
  try {
    return { viewer: await authenticate(deps.prisma, credential.value, deps.logger), responseCookies: [] };
  } catch (err) {
    if (!(err instanceof InvalidCredentialError)) throw err;
    if (credential.from !== 'cookie') throw gqlError('UNAUTHENTICATED', err.message);
    return { viewer: null, responseCookies: [sessionCookie(deps.config, '', 0)] };
  }
}

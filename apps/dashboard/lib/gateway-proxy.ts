// What the dashboard's proxies to the gateway share (/graphql and /downloads): the gateway's address, and which
// headers travel each way.

/** Where the gateway is, read when a request is served (one build runs against any gateway). */
export function gatewayUrl(): string {
  return process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000';
}

/**
 * The browser's headers the gateway needs. X-Forwarded-For: the gateway's rate and login limits are per client
 * address, and every request reaches it from this process; the gateway believes the header only from proxies in its
 * TRUSTED_PROXIES. Next.js fills it with the browser's address unless a proxy in front already set it (see
 * docs/security.md).
 */
export function forwardedHeaders(request: Request, names: readonly string[]): Headers {
  const headers = new Headers();
  for (const name of names) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  return headers;
}

/** The gateway's answer headers the browser gets: `names`, and every Set-Cookie. */
export function answerHeaders(answer: Response, names: readonly string[]): Headers {
  const out = new Headers();
  for (const name of names) {
    const value = answer.headers.get(name);
    if (value) out.set(name, value);
  }
  for (const cookie of answer.headers.getSetCookie()) out.append('set-cookie', cookie);
  return out;
}

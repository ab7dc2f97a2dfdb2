// GraphQL over HTTP for the browser, proxied to the gateway so that its httpOnly session cookie is first-party.
// A route handler rather than a rewrite: rewrites are fixed when the app is built, the gateway's address is known
// only where it runs (GATEWAY_URL).

export const dynamic = 'force-dynamic';

// X-Forwarded-For: the gateway's rate and login limits are per client address, and every request reaches it from
// this process; the gateway believes the header only from proxies in its TRUSTED_PROXIES. Next.js fills it with the
// browser's address unless a proxy in front already set it (see docs/security.md).
const FORWARDED_REQUEST_HEADERS = [
  'content-type',
  'cookie',
  'authorization',
  'x-graphql-csrf',
  'user-agent',
  'x-forwarded-for',
];
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'x-request-id', 'retry-after', 'cache-control'];

export async function POST(request: Request): Promise<Response> {
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  let answer: Response;
  try {
    answer = await fetch(`${process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000'}/graphql`, {
      method: 'POST',
      headers,
      // Uploads stream through (a CSV file of hundreds of megabytes never sits in this process's memory); other
      // requests are small JSON, sent with their length, which the gateway asks for.
      ...(request.headers.get('content-type')?.startsWith('multipart/form-data')
        ? { body: request.body, duplex: 'half' }
        : { body: await request.arrayBuffer() }),
    } as RequestInit);
  } catch {
    return Response.json(
      { errors: [{ message: 'the API is unreachable', extensions: { code: 'UNAVAILABLE' } }] },
      { status: 502 },
    );
  }
  const out = new Headers();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = answer.headers.get(name);
    if (value) out.set(name, value);
  }
  for (const cookie of answer.headers.getSetCookie()) out.append('set-cookie', cookie);
  return new Response(answer.body, { status: answer.status, headers: out });
}

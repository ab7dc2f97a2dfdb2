// GraphQL over HTTP for the browser, proxied to the gateway so that its httpOnly session cookie is first-party.
// A route handler rather than a rewrite: rewrites are fixed when the app is built, the gateway's address is known
// only where it runs (GATEWAY_URL).

import { answerHeaders, forwardedHeaders, gatewayUrl } from '../../lib/gateway-proxy';

export const dynamic = 'force-dynamic';

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
  let answer: Response;
  try {
    answer = await fetch(`${gatewayUrl()}/graphql`, {
      method: 'POST',
      headers: forwardedHeaders(request, FORWARDED_REQUEST_HEADERS),
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
  return new Response(answer.body, {
    status: answer.status,
    headers: answerHeaders(answer, FORWARDED_RESPONSE_HEADERS),
  });
}

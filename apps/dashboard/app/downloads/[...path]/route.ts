// The gateway's CSV downloads (a campaign's calls, an import's report) for the browser, with its session cookie,
// streamed through: the file never sits in this process, a slow browser slows the gateway's reading of PostgreSQL,
// and a browser that cancels the download cancels the gateway's too (its database connection is freed).
import { answerHeaders, forwardedHeaders, gatewayUrl } from '../../../lib/gateway-proxy';

export const dynamic = 'force-dynamic';

const FORWARDED_REQUEST_HEADERS = ['cookie', 'authorization', 'user-agent', 'x-forwarded-for'];
const FORWARDED_RESPONSE_HEADERS = [
  'content-type',
  'content-disposition',
  'cache-control',
  'x-content-type-options',
  'x-request-id',
  'retry-after',
];

export async function GET(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  let answer: Response;
  try {
    answer = await fetch(`${gatewayUrl()}${pathname}`, {
      headers: forwardedHeaders(request, FORWARDED_REQUEST_HEADERS),
      signal: request.signal,
    });
  } catch {
    return Response.json({ error: 'the API is unreachable', code: 'UNAVAILABLE' }, { status: 502 });
  }
  return new Response(answer.body, {
    status: answer.status,
    headers: answerHeaders(answer, FORWARDED_RESPONSE_HEADERS),
  });
}

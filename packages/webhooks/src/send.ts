import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import {
  addressProblem,
  guardedLookup,
  hostOf,
  parseTargetUrl,
  type Resolver,
  type TargetPolicy,
  TargetRefusedError,
} from './target-guard.ts';

/** Most bytes of a response body read (and kept as its excerpt); the rest is never read. */
export const RESPONSE_EXCERPT_BYTES = 1024;

export interface SendRequest {
  url: string;
  body: string;
  /** The signature headers (and any other); content type, length and user agent are added. */
  headers: Record<string, string>;
  /** Bound on the whole exchange: connecting, sending, the status line and reading the excerpt. */
  timeoutMs: number;
  policy: TargetPolicy;
  resolve?: Resolver;
  /** Sockets kept alive between requests (the dispatcher's); none: one connection per request. */
  agents?: { http: http.Agent; https: https.Agent };
}

export interface SendResult {
  /** A 2xx answer. */
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  /** The start of the response body (at most RESPONSE_EXCERPT_BYTES, as UTF-8 text). */
  excerpt: string | null;
  /** Why it failed, for people (null when ok). */
  error: string | null;
  /** The target was refused by the guard (nothing was sent). */
  refused: boolean;
}

export const USER_AGENT = 'Outbound-Webhooks/1 (+https://www.standardwebhooks.com)';

function describe(err: NodeJS.ErrnoException, timeoutMs: number): string {
  if (err instanceof TargetRefusedError) return err.message;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  return err.code ? `${err.code}: ${err.message}` : err.message;
}

/**
 * One signed POST to a partner: http(s) only, every address of the host checked at connect time (the guard's
 * `lookup`; an IP literal is checked here since nothing resolves it), redirects never followed (a 3xx is a failure),
 * the whole exchange bounded by `timeoutMs`, at most RESPONSE_EXCERPT_BYTES of the body read. Never throws.
 */
export async function sendWebhook(request: SendRequest): Promise<SendResult> {
  const started = performance.now();
  const result = (fields: Partial<SendResult>): SendResult => ({
    ok: false,
    statusCode: null,
    excerpt: null,
    error: null,
    refused: false,
    ...fields,
    latencyMs: Math.round(performance.now() - started),
  });
  let url: URL;
  try {
    url = parseTargetUrl(request.url);
    const host = hostOf(url);
    const problem = isIP(host) ? addressProblem(host, request.policy) : null;
    if (problem) throw new TargetRefusedError(`refused: ${problem}`);
  } catch (err) {
    return result({ error: (err as Error).message, refused: true });
  }
  const secure = url.protocol === 'https:';
  const body = Buffer.from(request.body, 'utf8');
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = (secure ? https : http).request(url, {
      method: 'POST',
      headers: {
        ...request.headers,
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': USER_AGENT,
      },
      lookup: guardedLookup(request.policy, request.resolve) as never,
      agent: request.agents ? (secure ? request.agents.https : request.agents.http) : false,
    });
    const timer = setTimeout(() => {
      const err = new Error('timeout');
      err.name = 'TimeoutError';
      req.destroy(err);
    }, request.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish(
        result({
          error: describe(err, request.timeoutMs),
          refused: err instanceof TargetRefusedError,
        }),
      ),
    );
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const statusCode = res.statusCode ?? null;
        const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
        // As text (invalid bytes as U+FFFD); NUL too, which PostgreSQL text cannot hold.
        const excerpt = Buffer.concat(chunks)
          .subarray(0, RESPONSE_EXCERPT_BYTES)
          .toString('utf8')
          .replaceAll('\u0000', '\uFFFD');
        finish(
          result({
            ok,
            statusCode,
            excerpt: excerpt.length > 0 ? excerpt : null,
            error: ok
              ? null
              : statusCode !== null && statusCode >= 300 && statusCode < 400
                ? `answered ${statusCode} (redirects are not followed)`
                : `answered ${statusCode}`,
          }),
        );
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // Enough read: the rest of the body is not wanted, the connection is not reused.
        if (size >= RESPONSE_EXCERPT_BYTES) {
          done();
          res.destroy();
        }
      });
      // The status line came: a body cut short (the timeout, the partner closing) still answers with it.
      res.on('error', done);
      res.on('close', done);
    });
    req.end(body);
  });
}

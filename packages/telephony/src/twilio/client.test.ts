import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { OriginateRequest } from '../provider.ts';
import { ProviderRejectedError, ProviderUnavailableError } from '../provider.ts';
import { TwilioProvider, type TwilioProviderOptions } from './client.ts';

const request: OriginateRequest = {
  tenantId: 't1',
  campaignId: 'c1',
  callId: 'k1',
  attemptId: 'a1',
  attempt: 1,
  to: '+14155550123',
  from: '+14155550100',
  statusCallbackUrl: 'https://hooks.example/webhooks/telephony?tenantId=t1',
  flowUrl: 'https://hooks.example/flows/twilio/voice?tenantId=t1&flow=3',
  fallbackUrl: 'https://hooks.example/flows/twilio/fallback?tenantId=t1&flow=3',
  machineDetection: 'DetectMessageEnd',
};

/** A request as the stubbed API saw it. */
interface Seen {
  method: string;
  url: string;
  headers: Headers;
  body: string;
  text(): string;
}

/** What the stubbed API answers: a status and a JSON or text body, or an error of the connection. */
type Reply = { status: number; json?: unknown; text?: string } | { error: Error };

const options = { baseUrl: 'https://api.example/', accountSid: 'AC123', authToken: 'secret' };

/** A provider whose every request is answered by `answer` (undici's MockAgent: no network). */
function providerAnswering(
  answer: () => Reply,
  seen: Seen[] = [],
  extra: Partial<TwilioProviderOptions> = {},
): TwilioProvider {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get('https://api.example');
  const intercept = () => pool.intercept({ path: () => true, method: () => true });
  const next = (): void => {
    const reply = answer();
    if ('error' in reply) {
      intercept().replyWithError(reply.error);
      return;
    }
    intercept().reply(({ path, method, headers, body }) => {
      const text = String(body ?? '');
      seen.push({
        method,
        url: `https://api.example${path}`,
        headers: new Headers(headers as Record<string, string>),
        body: text,
        text: () => text,
      });
      return {
        statusCode: reply.status,
        data: reply.json === undefined ? (reply.text ?? '') : JSON.stringify(reply.json),
        responseOptions: { headers: { 'content-type': 'application/json' } },
      };
    });
  };
  // One interceptor per request, made as the previous one is used: `answer` runs once per request.
  const dispatch = agent.dispatch.bind(agent);
  agent.dispatch = (opts, handler) => {
    next();
    return dispatch(opts, handler);
  };
  return new TwilioProvider({ ...options, dispatcher: agent, ...extra });
}

const json = (status: number, body: unknown): Reply => ({ status, json: body });

describe('TwilioProvider (unit, HTTP stubbed)', () => {
  it('posts the Calls form with basic auth, the flow URLs, machine detection and the status events', async () => {
    const seen: Seen[] = [];
    const provider = providerAnswering(() => json(201, { sid: 'CAabc', status: 'queued' }), seen);
    await expect(provider.originate(request)).resolves.toEqual({ providerCallId: 'CAabc' });
    const [sent] = seen;
    expect(sent?.url).toBe('https://api.example/2010-04-01/Accounts/AC123/Calls.json');
    expect(sent?.headers.get('authorization')).toBe(`Basic ${btoa('AC123:secret')}`);
    const form = new URLSearchParams(await sent?.text());
    expect(form.get('To')).toBe('+14155550123');
    expect(form.get('From')).toBe('+14155550100');
    expect(form.get('Url')).toBe(request.flowUrl);
    expect(form.get('Method')).toBe('POST');
    expect(form.get('FallbackUrl')).toBe(request.fallbackUrl);
    expect(form.get('FallbackMethod')).toBe('POST');
    expect(form.get('StatusCallback')).toBe(request.statusCallbackUrl);
    expect(form.getAll('StatusCallbackEvent')).toEqual(['answered', 'completed']);
    expect(form.get('StatusCallbackMethod')).toBe('POST');
    expect(form.get('MachineDetection')).toBe('DetectMessageEnd');
  });

  it("asks for the request's machine detection", async () => {
    const seen: Seen[] = [];
    const provider = providerAnswering(() => json(201, { sid: 'CAabc' }), seen);
    await provider.originate({ ...request, machineDetection: 'Enable' });
    expect(new URLSearchParams(await seen[0]?.text()).get('MachineDetection')).toBe('Enable');
  });

  it('asks for the configured callbacks, always with the final one', async () => {
    const seen: Seen[] = [];
    const provider = providerAnswering(() => json(201, { sid: 'CAabc' }), seen, {
      statusCallbackEvents: ['initiated', 'ringing'],
    });
    await provider.originate(request);
    const form = new URLSearchParams(await seen[0]?.text());
    expect(form.getAll('StatusCallbackEvent')).toEqual(['initiated', 'ringing', 'completed']);
  });

  it('asks the carrier to retry status callbacks with the configured connection overrides', async () => {
    const seen: Seen[] = [];
    const created = () => json(201, { sid: 'CAabc' });
    await providerAnswering(created, seen, { callbackOverrides: 'rc=5&rp=all&rt=3000' }).originate(request);
    await providerAnswering(created, seen).originate(request);
    const [withOverrides, without] = seen.map((r) => new URLSearchParams(r.body));
    expect(withOverrides?.get('StatusCallback')).toBe(`${request.statusCallbackUrl}#rc=5&rp=all&rt=3000`);
    expect(without?.get('StatusCallback')).toBe(request.statusCallbackUrl);
    expect(() => new TwilioProvider({ ...options, callbackOverrides: 'rc=50' })).toThrow(/rc must be/);
  });

  it('maps 429 to a retryable rejection and other 4xx to a final one with the Twilio code', async () => {
    const cps = await providerAnswering(() => json(429, { code: 20429, message: 'Too Many Requests' }))
      .originate(request)
      .catch((e: unknown) => e);
    expect(cps).toBeInstanceOf(ProviderRejectedError);
    expect(cps).toMatchObject({ retryable: true, code: 'CPS_EXCEEDED', status: 429 });

    const bad = await providerAnswering(() =>
      json(400, { code: 21211, message: "Invalid 'To'", status: 400 }),
    )
      .originate(request)
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ProviderRejectedError);
    expect(bad).toMatchObject({
      retryable: false,
      code: '21211',
      status: 400,
      message: "originate: Invalid 'To'",
    });
  });

  it('maps 5xx, timeouts, unreadable answers and network errors to ProviderUnavailableError', async () => {
    const e500 = await providerAnswering(() => ({ status: 503, text: '<html>oops</html>' }))
      .originate(request)
      .catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(ProviderUnavailableError);
    expect(e500).toMatchObject({ status: 503, callMayExist: true });

    const noSid = await providerAnswering(() => json(201, { status: 'queued' }))
      .originate(request)
      .catch((e: unknown) => e);
    expect(noSid).toMatchObject({ name: 'ProviderUnavailableError', callMayExist: true });

    const reset = await providerAnswering(() => ({
      error: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    }))
      .originate(request)
      .catch((e: unknown) => e);
    expect(reset).toMatchObject({ name: 'ProviderUnavailableError', callMayExist: true });

    const refused = await providerAnswering(() => ({
      error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    }))
      .originate(request)
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'ProviderUnavailableError', callMayExist: false });
  });

  it('never retries an originate', async () => {
    const seen: Seen[] = [];
    const provider = providerAnswering(() => ({ status: 500 }), seen);
    await expect(provider.originate(request)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(seen).toHaveLength(1);
  });

  it('hangs up with Status=completed and accepts a call that already ended', async () => {
    const seen: Seen[] = [];
    await providerAnswering(() => json(200, { sid: 'CAabc', status: 'completed' }), seen).hangup('CAabc');
    expect(seen[0]?.url).toBe('https://api.example/2010-04-01/Accounts/AC123/Calls/CAabc.json');
    expect(await seen[0]?.text()).toBe('Status=completed');
    await expect(
      providerAnswering(() => json(400, { code: 21220, message: 'Call is not in-progress' })).hangup('CAabc'),
    ).resolves.toBeUndefined();
    await expect(providerAnswering(() => json(404, { code: 20404 })).hangup('CAabc')).rejects.toMatchObject({
      code: '20404',
    });
  });

  it('reads a call back: its state as an event, the outcome once ended, null when the carrier has none', async () => {
    const seen: Seen[] = [];
    const resource = {
      sid: 'CAabc',
      to: '+14155550123',
      from: '+14155550100',
      status: 'completed',
      answered_by: 'machine_start',
      duration: '42',
      date_created: 'Tue, 01 Jan 2030 10:00:00 +0000',
      end_time: 'Tue, 01 Jan 2030 10:01:00 +0000',
    };
    const ended = await providerAnswering(() => json(200, resource), seen).fetchCall('CAabc');
    expect(seen[0]?.method).toBe('GET');
    expect(seen[0]?.url).toBe('https://api.example/2010-04-01/Accounts/AC123/Calls/CAabc.json');
    expect(ended).toEqual({
      providerCallId: 'CAabc',
      to: '+14155550123',
      from: '+14155550100',
      event: 'completed',
      outcome: 'VOICEMAIL',
      durationMs: 42_000,
      createdAt: new Date('2030-01-01T10:00:00Z'),
      endedAt: new Date('2030-01-01T10:01:00Z'),
      status: 'completed',
    });
    const live = await providerAnswering(() =>
      json(200, { ...resource, status: 'in-progress', answered_by: null, duration: null, end_time: null }),
    ).fetchCall('CAabc');
    expect(live).toMatchObject({ event: 'answered', status: 'in-progress' });
    expect(live).not.toHaveProperty('outcome');
    expect(await providerAnswering(() => json(404, { code: 20404 })).fetchCall('CAnone')).toBeNull();
    await expect(providerAnswering(() => ({ status: 503 })).fetchCall('CAabc')).rejects.toBeInstanceOf(
      ProviderUnavailableError,
    );
  });

  it('finds calls by number and caller id within a time range, newest first', async () => {
    const seen: Seen[] = [];
    const call = (sid: string, created: string) => ({
      sid,
      to: '+14155550123',
      from: '+14155550100',
      status: 'busy',
      duration: '0',
      date_created: created,
      end_time: created,
    });
    const found = await providerAnswering(
      () =>
        json(200, {
          calls: [
            call('CAnew', 'Tue, 01 Jan 2030 10:05:00 +0000'),
            call('CAmid', 'Tue, 01 Jan 2030 10:03:00 +0000'),
            call('CAold', 'Tue, 01 Jan 2030 09:00:00 +0000'),
          ],
        }),
      seen,
    ).findCalls({
      to: '+14155550123',
      from: '+14155550100',
      createdAfter: new Date('2030-01-01T10:00:00Z'),
      createdBefore: new Date('2030-01-01T10:04:00Z'),
    });
    const url = new URL(seen[0]?.url ?? '');
    expect(url.pathname).toBe('/2010-04-01/Accounts/AC123/Calls.json');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ To: '+14155550123', From: '+14155550100' });
    expect(found.map((c) => [c.providerCallId, c.outcome])).toEqual([['CAmid', 'BUSY']]);
  });
});

describe('TwilioProvider (unit, over a local HTTP server)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  /** A server answering each request with `answer` (or never), counting the connections it was given. */
  async function api(answer?: (res: ServerResponse) => void) {
    let connections = 0;
    let inFlight = 0;
    let mostInFlight = 0;
    server = createServer((req, res) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      res.on('close', () => inFlight--);
      req.resume();
      req.on('end', () => answer?.(res));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url, connections: () => connections, mostInFlight: () => mostInFlight };
  }
  const created = (res: ServerResponse) =>
    res.writeHead(201, { 'content-type': 'application/json' }).end('{"sid":"CAabc"}');

  it('says the call may exist when the provider does not answer within timeoutMs', async () => {
    const { url } = await api();
    const provider = new TwilioProvider({ ...options, baseUrl: url, timeoutMs: 150 });
    const started = Date.now();
    const error = await provider.originate(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({
      callMayExist: true,
      message: 'originate: no answer from twilio within 150 ms',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('says the call does not exist when the connection is refused', async () => {
    const { url } = await api();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    const error = await new TwilioProvider({ ...options, baseUrl: url })
      .originate(request)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'ProviderUnavailableError',
      callMayExist: false,
      message: 'originate: twilio unreachable (ECONNREFUSED)',
    });
  });

  it('keeps its connections open, at most maxConnections of them, requests beyond waiting for one', async () => {
    let held: (() => void)[] = [];
    const { url, connections, mostInFlight } = await api((res) => {
      held.push(() => created(res));
      if (held.length === 3) {
        for (const answer of held) answer();
        held = [];
      }
    });
    const provider = new TwilioProvider({ ...options, baseUrl: url, maxConnections: 3 });
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(Array.from({ length: 6 }, () => provider.originate(request)));
      expect(results.every((r) => r.providerCallId === 'CAabc')).toBe(true);
    }
    expect(mostInFlight()).toBe(3);
    expect(connections()).toBe(3);
  });
});

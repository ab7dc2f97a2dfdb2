import { describe, expect, it } from 'vitest';
import type { OriginateRequest } from '../provider.ts';
import { ProviderRejectedError, ProviderUnavailableError } from '../provider.ts';
import { TwilioProvider } from './client.ts';

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

function providerAnswering(answer: () => Response | Promise<Response>, seen: Request[] = []) {
  return new TwilioProvider({
    baseUrl: 'https://api.example/',
    accountSid: 'AC123',
    authToken: 'secret',
    fetch: async (input, init) => {
      seen.push(new Request(input, init));
      return answer();
    },
  });
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('TwilioProvider (unit, fetch stubbed)', () => {
  it('posts the Calls form with basic auth, the flow URLs, machine detection and the status events', async () => {
    const seen: Request[] = [];
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
    const seen: Request[] = [];
    const provider = providerAnswering(() => json(201, { sid: 'CAabc' }), seen);
    await provider.originate({ ...request, machineDetection: 'Enable' });
    expect(new URLSearchParams(await seen[0]?.text()).get('MachineDetection')).toBe('Enable');
  });

  it('asks for the configured callbacks, always with the final one', async () => {
    const seen: Request[] = [];
    const provider = new TwilioProvider({
      baseUrl: 'https://api.example',
      accountSid: 'AC123',
      authToken: 'secret',
      statusCallbackEvents: ['initiated', 'ringing'],
      fetch: async (input, init) => {
        seen.push(new Request(input, init));
        return new Response(JSON.stringify({ sid: 'CAabc' }), { status: 201 });
      },
    });
    await provider.originate(request);
    const form = new URLSearchParams(await seen[0]?.text());
    expect(form.getAll('StatusCallbackEvent')).toEqual(['initiated', 'ringing', 'completed']);
  });

  it('asks the carrier to retry status callbacks with the configured connection overrides', async () => {
    const seen: Request[] = [];
    const options = {
      baseUrl: 'https://api.example',
      accountSid: 'AC123',
      authToken: 'secret',
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        seen.push(new Request(input, init));
        return new Response(JSON.stringify({ sid: 'CAabc' }), { status: 201 });
      },
    };
    await new TwilioProvider({ ...options, callbackOverrides: 'rc=5&rp=all&rt=3000' }).originate(request);
    await new TwilioProvider(options).originate(request);
    const [withOverrides, without] = await Promise.all(
      seen.map(async (r) => new URLSearchParams(await r.text())),
    );
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
    const e500 = await providerAnswering(() => new Response('<html>oops</html>', { status: 503 }))
      .originate(request)
      .catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(ProviderUnavailableError);
    expect(e500).toMatchObject({ status: 503, callMayExist: true });

    const noSid = await providerAnswering(() => json(201, { status: 'queued' }))
      .originate(request)
      .catch((e: unknown) => e);
    expect(noSid).toMatchObject({ name: 'ProviderUnavailableError', callMayExist: true });

    const timeout = await providerAnswering(() => {
      throw new DOMException('timed out', 'TimeoutError');
    })
      .originate(request)
      .catch((e: unknown) => e);
    expect(timeout).toMatchObject({ name: 'ProviderUnavailableError', callMayExist: true });

    const refused = await providerAnswering(() => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      });
    })
      .originate(request)
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'ProviderUnavailableError', callMayExist: false });
  });

  it('never retries an originate', async () => {
    const seen: Request[] = [];
    const provider = providerAnswering(() => new Response('', { status: 500 }), seen);
    await expect(provider.originate(request)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(seen).toHaveLength(1);
  });

  it('hangs up with Status=completed and accepts a call that already ended', async () => {
    const seen: Request[] = [];
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
    const seen: Request[] = [];
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
    await expect(
      providerAnswering(() => new Response('', { status: 503 })).fetchCall('CAabc'),
    ).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  it('finds calls by number and caller id within a time range, newest first', async () => {
    const seen: Request[] = [];
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

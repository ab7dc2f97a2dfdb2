import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterEach, describe, expect, it } from 'vitest';
import { urlTraceContext } from './carrier-requests.ts';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const url = new URL(`https://ingress.example/flows/twilio/voice?callId=c&traceparent=${TP}&flow=1`);

describe('the trace context of a carrier request URL', () => {
  afterEach(() => {
    propagation.disable();
  });

  it("is the propagator's fields the URL carries, for the URLs of the answer", () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    expect(urlTraceContext(url)).toEqual({ traceparent: TP });
    expect(urlTraceContext(new URL('https://ingress.example/flows/twilio/voice?callId=c'))).toEqual({});
  });

  it('is nothing with telemetry off', () => {
    expect(urlTraceContext(url)).toEqual({});
  });
});

'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { count, eta, rate, talkTime } from '../lib/format';

// A campaign's KPIs, live: the rates and the outcome breakdown come with the live counters (CampaignCounters' KPI
// fields, computed by the gateway with packages/domain/src/kpis.ts); the pace and the ETAs are read again when the
// counters move (at most every 5 s) and every 15 s while the campaign runs.

/** The KPI fields the campaign page asks for with the counters, in its query and its live subscription. */
export const KPI_COUNTER_FIELDS =
  'outcomeAnswered outcomeVoicemail outcomeBusy outcomeNoAnswer outcomeRejected outcomeFailed outcomeCanceled ' +
  'dialled answered remaining answerRate humanRate machineRate voicemailRate failureRate optOutRate transferRate ' +
  'averageTalkSeconds';

export interface KpiCounters {
  outcomeAnswered: number;
  outcomeVoicemail: number;
  outcomeBusy: number;
  outcomeNoAnswer: number;
  outcomeRejected: number;
  outcomeFailed: number;
  outcomeCanceled: number;
  dialled: number;
  answered: number;
  remaining: number;
  answerRate: number | null;
  humanRate: number | null;
  machineRate: number | null;
  voicemailRate: number | null;
  failureRate: number | null;
  optOutRate: number | null;
  transferRate: number | null;
  averageTalkSeconds: number | null;
}

const PACE = `query Pace($id: ID!) {
  campaign(id: $id) { id pace { windowMinutes attemptsPerMinute callsPerMinute etaAtPace etaWithinBusinessHours } }
}`;
const MIN_REFRESH_MS = 5000;
const IDLE_REFRESH_MS = 15_000;

interface Pace {
  windowMinutes: number;
  attemptsPerMinute: number;
  callsPerMinute: number;
  etaAtPace: string | null;
  etaWithinBusinessHours: string | null;
}

/** The outcome breakdown's bars: label, counter, test id and colour class. */
const OUTCOMES = [
  ['Answered by a person', 'outcomeAnswered', 'answered', 'good'],
  ['Answered by a machine', 'outcomeVoicemail', 'voicemail', 'machine'],
  ['Busy', 'outcomeBusy', 'busy', 'warning'],
  ['No answer', 'outcomeNoAnswer', 'no-answer', 'warning'],
  ['Rejected', 'outcomeRejected', 'rejected', 'bad'],
  ['Failed', 'outcomeFailed', 'failed', 'bad'],
  ['Canceled', 'outcomeCanceled', 'canceled', 'neutral'],
] as const;

/** The pace, read again on a new counters version (throttled) and every IDLE_REFRESH_MS while running. */
function usePace(campaignId: string, version: string, running: boolean) {
  const client = useClient();
  const [pace, setPace] = useState<Pace | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const lastLoad = useRef(0);
  const sequence = useRef(0);
  const load = useCallback(async () => {
    lastLoad.current = Date.now();
    const mine = ++sequence.current;
    const result = await client
      .query<{ campaign: { pace: Pace } | null }>(PACE, { id: campaignId }, { requestPolicy: 'network-only' })
      .toPromise();
    if (mine !== sequence.current) return;
    if (result.error) setProblem(result.error.message);
    else if (result.data?.campaign) {
      setProblem(null);
      setPace(result.data.campaign.pace);
    }
  }, [client, campaignId]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the trigger, not an input.
  useEffect(() => {
    const timer = setTimeout(() => void load(), Math.max(0, lastLoad.current + MIN_REFRESH_MS - Date.now()));
    return () => clearTimeout(timer);
  }, [version, load]);
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => void load(), IDLE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [running, load]);
  return { pace, problem };
}

const perMinute = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 1 });

export function KpiPanel({
  campaignId,
  counters,
  version,
  running,
  timeZone,
}: {
  campaignId: string;
  counters: KpiCounters;
  version: string;
  running: boolean;
  /** The campaign's zone: the ETAs are shown in it. */
  timeZone: string;
}) {
  const { pace, problem } = usePace(campaignId, version, running);
  const finish = (at: string | null | undefined) =>
    at === undefined ? 'Loading…' : at === null ? 'Not in sight' : eta(at, timeZone);
  const figures = [
    ['Answer rate', rate(counters.answerRate), 'answer-rate'],
    ['Person / machine', `${rate(counters.humanRate)} / ${rate(counters.machineRate)}`, 'human-machine'],
    ['Voicemail rate', rate(counters.voicemailRate), 'voicemail-rate'],
    ['Failure rate', rate(counters.failureRate), 'failure-rate'],
    ['Average talk time', talkTime(counters.averageTalkSeconds), 'talk-time'],
    [
      'Opt-outs / transfers',
      `${rate(counters.optOutRate)} / ${rate(counters.transferRate)}`,
      'opt-out-transfer',
    ],
    ['Attempts per minute', pace ? perMinute(pace.attemptsPerMinute) : '…', 'attempts-per-minute'],
    ['Calls ended per minute', pace ? perMinute(pace.callsPerMinute) : '…', 'calls-per-minute'],
    ['Calls remaining', count(counters.remaining), 'remaining'],
    ['Done at this pace', finish(pace?.etaAtPace), 'eta'],
    ['Done within business hours', finish(pace?.etaWithinBusinessHours), 'eta-business-hours'],
  ] as const;
  return (
    <section className="card kpis" aria-labelledby="kpis-heading">
      <h2 id="kpis-heading">KPIs</h2>
      <p className="muted kpis-note">
        Rates over the {count(counters.dialled)} calls dialled (by each call's last outcome); pace over the
        last {pace?.windowMinutes ?? 15} minutes.{problem && ` Pace unavailable: ${problem}`}
      </p>
      <dl className="counters kpi-figures">
        {figures.map(([label, value, key]) => (
          <div key={key}>
            <dt>{label}</dt>
            <dd data-testid={`kpi-${key}`}>{value}</dd>
          </div>
        ))}
      </dl>
      <OutcomeChart counters={counters} />
    </section>
  );
}

/** The outcome breakdown: calls per last outcome, as bars scaled to the calls dialled, with counts and shares. */
function OutcomeChart({ counters }: { counters: KpiCounters }) {
  const dialled = counters.dialled;
  return (
    <figure className="outcomes" aria-labelledby="outcomes-title">
      <figcaption id="outcomes-title">
        <strong>Outcomes</strong> <span className="muted">calls by their last attempt's outcome</span>
      </figcaption>
      <ul className="outcome-bars">
        {OUTCOMES.map(([label, field, key, tone]) => {
          const calls = counters[field];
          const share = dialled > 0 ? calls / dialled : null;
          return (
            <li key={key} data-testid={`outcome-${key}`}>
              <span className="outcome-label">{label}</span>
              <span className="outcome-track" aria-hidden="true">
                <span className={`outcome-bar ${tone}`} style={{ width: `${(share ?? 0) * 100}%` }} />
              </span>
              <span className="outcome-value">
                <span data-testid={`outcome-${key}-calls`}>{count(calls)}</span>{' '}
                <span className="muted" data-testid={`outcome-${key}-share`}>
                  ({rate(share)})
                </span>
              </span>
            </li>
          );
        })}
      </ul>
    </figure>
  );
}

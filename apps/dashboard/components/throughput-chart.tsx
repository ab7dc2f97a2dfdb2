'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useClient } from 'urql';
import { count, dateTime, decimal, time } from '../lib/format';
import { useTheme } from './theme-toggle';
import { useDisplayZone } from './zone';

// Attempts ended over a chosen range, drawn with uPlot (a small canvas time-series library): the last 15 minutes in
// 10-second bars (the live Redis series), or the last hour, 24 hours or the campaign's whole life from its exact
// per-minute history (Campaign.history, buckets of 1 minute to a few hours). The series is read from the gateway
// again when the campaign's live counters move (at most every 2 s; every 10 s for the longer ranges) and every 10 s
// while it runs, so the window slides even when nothing happens.

const THROUGHPUT = `query Throughput($id: ID!) {
  campaign(id: $id) { id throughput(minutes: 15, bucketSeconds: 10) { at ended answered } }
}`;
const HISTORY = `query History($id: ID!, $range: HistoryRange!) {
  campaign(id: $id) { id history(range: $range) { bucketSeconds buckets { at ended answered } } }
}`;
const IDLE_REFRESH_MS = 10_000;
const HEIGHT = 200;

/** The ranges offered: button label, description, and the history range read (null: the live 10 s series). */
export const RANGES = {
  '15m': { label: '15 min', title: 'last 15 minutes', history: null, minRefreshMs: 2000 },
  '1h': { label: '1 h', title: 'last hour', history: 'LAST_HOUR', minRefreshMs: 10_000 },
  '24h': { label: '24 h', title: 'last 24 hours', history: 'LAST_24_HOURS', minRefreshMs: 10_000 },
  campaign: { label: 'Campaign', title: 'whole campaign', history: 'CAMPAIGN', minRefreshMs: 10_000 },
} as const;
type Range = keyof typeof RANGES;

interface Bucket {
  at: string;
  ended: number;
  answered: number;
}

interface Series {
  bucketSeconds: number;
  buckets: Bucket[];
}

/** A bucket size as words: "10 s", "minute", "15 minutes", "3 hours". */
function bucketName(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds === 60) return 'minute';
  if (seconds < 3600) return `${seconds / 60} minutes`;
  return seconds === 3600 ? 'hour' : `${seconds / 3600} hours`;
}

export function ThroughputChart({
  campaignId,
  version,
  running,
}: {
  campaignId: string;
  /** The live counters' version: a new one means attempts may have ended. */
  version: string;
  running: boolean;
}) {
  const client = useClient();
  const { zone } = useDisplayZone();
  const [theme] = useTheme();
  const [range, setRange] = useState<Range>('15m');
  const [series, setSeries] = useState<Series | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const lastLoad = useRef(0);
  const sequence = useRef(0);

  const load = useCallback(async () => {
    lastLoad.current = Date.now();
    // Reads may overlap (a counters version, the idle tick, a new range): only the newest one's answer is drawn.
    const mine = ++sequence.current;
    const history = RANGES[range].history;
    const result = history
      ? await client
          .query<{ campaign: { history: Series } | null }>(
            HISTORY,
            { id: campaignId, range: history },
            { requestPolicy: 'network-only' },
          )
          .toPromise()
      : await client
          .query<{ campaign: { throughput: Bucket[] } | null }>(
            THROUGHPUT,
            { id: campaignId },
            { requestPolicy: 'network-only' },
          )
          .toPromise();
    if (mine !== sequence.current) return;
    if (result.error) setProblem(result.error.message);
    else if (result.data?.campaign) {
      const campaign = result.data.campaign;
      setProblem(null);
      setSeries(
        'history' in campaign ? campaign.history : { bucketSeconds: 10, buckets: campaign.throughput },
      );
    }
  }, [client, campaignId, range]);

  // On every counters version, at most once per the range's minimum interval: a burst of versions makes one read
  // (each new version cancels the read the previous one scheduled, and the wait counts from the last read). A new
  // range reads at once.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the trigger, not an input.
  useEffect(() => {
    const wait = lastLoad.current + RANGES[range].minRefreshMs - Date.now();
    const timer = setTimeout(() => void load(), Math.max(0, wait));
    return () => clearTimeout(timer);
  }, [version, load]);
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => void load(), IDLE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [running, load]);

  const buckets = series?.buckets ?? null;
  /** A new range: its series is read at once, and the old one is not drawn meanwhile. */
  const choose = (next: Range) => {
    lastLoad.current = 0;
    setSeries(null);
    setRange(next);
  };
  const all = buckets ?? [];
  const sum = (list: Bucket[], key: 'ended' | 'answered') => list.reduce((n, b) => n + b[key], 0);
  const peak = Math.max(0, ...all.map((b) => b.ended));
  const per = bucketName(series?.bucketSeconds ?? 10);
  const summary = series
    ? `${count(sum(all, 'ended'))} attempts ended, ${count(sum(all, 'answered'))} answered; peak ${count(peak)} per ${per}.`
    : 'Loading…';

  return (
    <figure className="card throughput" aria-labelledby="throughput-title">
      <figcaption id="throughput-title">
        <strong>Throughput</strong>{' '}
        <span className="muted" data-testid="throughput-range">
          attempts ended per {per}, {RANGES[range].title}
        </span>
        <span className="throughput-summary" data-testid="throughput-summary">
          {problem ? `Throughput unavailable: ${problem}` : summary}
        </span>
      </figcaption>
      <fieldset className="range-selector" aria-label="Range">
        {(Object.keys(RANGES) as Range[]).map((key) => (
          <button
            key={key}
            type="button"
            className={key === range ? undefined : 'secondary'}
            aria-pressed={key === range}
            data-testid={`range-${key}`}
            onClick={() => choose(key)}
          >
            {RANGES[key].label}
          </button>
        ))}
      </fieldset>
      {/* A new zone or theme draws a new chart (uPlot takes both when it is created). */}
      <Plot
        key={`${zone} ${theme}`}
        buckets={buckets ?? []}
        bucketSeconds={series?.bucketSeconds ?? 10}
        label={summary}
        zone={zone}
      />
    </figure>
  );
}

const DAY = 86_400;

/** A tick of the time axis: date and time over a day, the time to the minute over 10 minutes, else to the second. */
function tickLabel(at: number, span: number, zone: string): string {
  if (span > DAY) return dateTime(at * 1000, zone);
  return time(at * 1000, zone, span > 600 ? 'minute' : 'second');
}

/** The uPlot canvas, created once and given new data in place; it follows its container's width. */
function Plot({
  buckets,
  bucketSeconds,
  label,
  zone,
}: {
  buckets: Bucket[];
  bucketSeconds: number;
  label: string;
  zone: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // Half a bucket of room on each side of the first and last bars (a single bucket would otherwise stretch the time
  // axis over years).
  const half = useRef(bucketSeconds / 2);
  half.current = bucketSeconds / 2;

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const style = getComputedStyle(document.documentElement);
    const ok = style.getPropertyValue('--ok').trim() || '#047857';
    const accent = style.getPropertyValue('--accent').trim() || '#1d4ed8';
    const bars = uPlot.paths.bars?.({ size: [0.8, 40] });
    // The axes in the theme's colours, the times written like every other time of the page (lib/format.ts).
    const axis = {
      stroke: style.getPropertyValue('--muted').trim() || '#4b5563',
      grid: { stroke: style.getPropertyValue('--border').trim() || '#d1d5db', width: 1 },
      ticks: { stroke: style.getPropertyValue('--border').trim() || '#d1d5db', width: 1 },
    };
    plot.current = new uPlot(
      {
        width: element.clientWidth,
        height: HEIGHT,
        // The axis in the page's zone (the campaign's, or the viewer's when they chose it), not the browser's.
        tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), zone),
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: {
            time: true,
            range: (_u, min, max) =>
              Number.isFinite(min) && Number.isFinite(max)
                ? [min - half.current, max + half.current]
                : [min, max],
          },
          y: { range: (_u, _min, max) => [0, Math.max(5, max)] },
        },
        axes: [
          {
            ...axis,
            // Room for each label (tickLabel): a date and time over a day, a time to the minute or to the second.
            space: (_u, _axis, min, max) => (max - min > DAY ? 150 : max - min > 600 ? 70 : 90),
            values: (u, splits) =>
              splits.map((at) => tickLabel(at, (u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0), zone)),
          },
          { ...axis, size: 40, values: (_u, splits) => splits.map((v) => decimal(v)) },
        ],
        series: [
          {},
          { label: 'Ended', stroke: accent, fill: `${accent}55`, paths: bars, points: { show: false } },
          { label: 'Answered', stroke: ok, width: 2, points: { show: false } },
        ],
      },
      [[], [], []],
      element,
    );
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: element.clientWidth, height: HEIGHT }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [zone]);

  useEffect(() => {
    plot.current?.setData([
      buckets.map((b) => Date.parse(b.at) / 1000),
      buckets.map((b) => b.ended),
      buckets.map((b) => b.answered),
    ]);
  }, [buckets]);

  // A fixed height: the chart appearing or changing never moves what follows it.
  return <div ref={box} role="img" aria-label={label} style={{ minHeight: HEIGHT + 40 }} />;
}

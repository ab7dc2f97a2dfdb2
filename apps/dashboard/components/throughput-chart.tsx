'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useClient } from 'urql';
import { dateTime, decimal, time } from '../lib/format';
import { useTheme } from './theme-toggle';
import { useDisplayZone } from './zone';

// Attempts ended per 10 seconds over the last 15 minutes, drawn with uPlot (a small canvas time-series library).
// The series is read from the gateway again when the campaign's live counters move (at most every 2 s) and every
// 10 s while it runs, so the window slides even when nothing happens.

const THROUGHPUT = `query Throughput($id: ID!) {
  campaign(id: $id) { id throughput(minutes: 15, bucketSeconds: 10) { at ended answered } }
}`;
const MIN_REFRESH_MS = 2000;
const IDLE_REFRESH_MS = 10_000;
const HEIGHT = 200;

interface Bucket {
  at: string;
  ended: number;
  answered: number;
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
  const [buckets, setBuckets] = useState<Bucket[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const lastLoad = useRef(0);
  const sequence = useRef(0);

  const load = useCallback(async () => {
    lastLoad.current = Date.now();
    // Reads may overlap (a counters version and the idle tick): only the newest one's answer is drawn.
    const mine = ++sequence.current;
    const result = await client
      .query<{ campaign: { throughput: Bucket[] } | null }>(
        THROUGHPUT,
        { id: campaignId },
        { requestPolicy: 'network-only' },
      )
      .toPromise();
    if (mine !== sequence.current) return;
    if (result.error) setProblem(result.error.message);
    else if (result.data?.campaign) {
      setProblem(null);
      setBuckets(result.data.campaign.throughput);
    }
  }, [client, campaignId]);

  // On every counters version, at most once per MIN_REFRESH_MS: a burst of versions makes one read (each new version
  // cancels the read the previous one scheduled, and the wait counts from the last read).
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

  const all = buckets ?? [];
  const sum = (list: Bucket[], key: 'ended' | 'answered') => list.reduce((n, b) => n + b[key], 0);
  const peak = Math.max(0, ...all.map((b) => b.ended));
  const summary = buckets
    ? `${sum(all, 'ended')} attempts ended, ${sum(all, 'answered')} answered; last minute ${sum(all.slice(-6), 'ended')}, peak ${peak} per 10 s.`
    : 'Loading…';

  return (
    <figure className="card throughput" aria-labelledby="throughput-title">
      <figcaption id="throughput-title">
        <strong>Throughput</strong> <span className="muted">attempts ended per 10 s, last 15 minutes</span>
        <span className="throughput-summary" data-testid="throughput-summary">
          {problem ? `Throughput unavailable: ${problem}` : summary}
        </span>
      </figcaption>
      {/* A new zone or theme draws a new chart (uPlot takes both when it is created). */}
      <Plot key={`${zone} ${theme}`} buckets={buckets ?? []} label={summary} zone={zone} />
    </figure>
  );
}

/** The uPlot canvas, created once and given new data in place; it follows its container's width. */
function Plot({ buckets, label, zone }: { buckets: Bucket[]; label: string; zone: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const style = getComputedStyle(document.documentElement);
    const ok = style.getPropertyValue('--ok').trim() || '#047857';
    const accent = style.getPropertyValue('--accent').trim() || '#1d4ed8';
    // The axes in the theme's colours, the times written like every other time of the page (lib/format.ts).
    const axis = {
      stroke: style.getPropertyValue('--muted').trim() || '#4b5563',
      grid: { stroke: style.getPropertyValue('--border').trim() || '#d1d5db', width: 1 },
      ticks: { stroke: style.getPropertyValue('--border').trim() || '#d1d5db', width: 1 },
    };
    const DAY = 86_400;
    const bars = uPlot.paths.bars?.({ size: [0.8, 40] });
    plot.current = new uPlot(
      {
        width: element.clientWidth,
        height: HEIGHT,
        // The axis in the page's zone (the campaign's, or the viewer's when they chose it), not the browser's.
        tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), zone),
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(5, max)] } },
        axes: [
          {
            ...axis,
            values: (u, splits) =>
              splits.map((at) =>
                (u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0) > DAY
                  ? dateTime(at * 1000, zone)
                  : time(at * 1000, zone, 'minute'),
              ),
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

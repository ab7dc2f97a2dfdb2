'use client';
import type { CSSProperties } from 'react';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { lastHeardAt } from '../../lib/connection';
import { clockTime, count } from '../../lib/format';
import { gridRows, MIN_ENDED, type WallboardOptions } from '../../lib/wallboard-options';
import {
  answered,
  answerRate,
  dialled,
  done,
  type EndedSample,
  ended,
  endedPerMinute,
  onTheLine,
  sumCounters,
  toCall,
  type WallCounters,
} from '../../lib/wallboard-rates';
import styles from './wallboard.module.css';

export interface BoardTile {
  id: string;
  name: string;
  status: string;
  counters: WallCounters | null;
}

/** How long without a word from the gateway before the board says its numbers are stale (keep-alives come every 10 s). */
const STALE_AFTER_MS = 30_000;

type Level = 'bad' | 'warn';

interface Alert {
  level: Level;
  text: string;
}

const EMPTY: WallCounters = sumCounters([]);

/** Now, to the second: the clock, "updated N s ago", the idle timers and the rotation move with it. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function subscribeResize(listener: () => void) {
  window.addEventListener('resize', listener);
  return () => window.removeEventListener('resize', listener);
}

/** The window's size as `width x height` (tiles are laid out for it). */
function useViewport(): [number, number] {
  const size = useSyncExternalStore(
    subscribeResize,
    () => `${window.innerWidth}x${window.innerHeight}`,
    () => '1920x1080',
  );
  const [w, h] = size.split('x').map(Number);
  return [w ?? 1920, h ?? 1080];
}

/** Since when each running campaign has had nothing on the line (ms), kept across renders; absent when it has. */
function useIdleSince(tiles: BoardTile[], now: number): Map<string, number> {
  const since = useRef(new Map<string, number>());
  for (const t of tiles) {
    const idle = t.status === 'RUNNING' && t.counters !== null && onTheLine(t.counters) === 0;
    if (!idle) since.current.delete(t.id);
    else if (!since.current.has(t.id)) since.current.set(t.id, now);
  }
  return since.current;
}

/** The pace over the last minute: the calls each campaign had ended, sampled each second the board moves. */
const PACE_WINDOW_MS = 60_000;

function usePace(tiles: BoardTile[], now: number): number | null {
  const samples = useRef<EndedSample[]>([]);
  const list = samples.current;
  if ((list.at(-1)?.at ?? 0) < now) {
    list.push({
      at: now,
      ended: Object.fromEntries(tiles.flatMap((t) => (t.counters ? [[t.id, ended(t.counters)]] : []))),
    });
    while ((list[0]?.at ?? now) < now - PACE_WINDOW_MS) list.shift();
  }
  return endedPerMinute(list);
}

/** What a tile flags: its answer rate under the threshold, paused, running with nothing on the line for a while. */
function alertsOf(tile: BoardTile, idleMs: number | null, options: WallboardOptions): Alert[] {
  const alerts: Alert[] = [];
  const c = tile.counters;
  const rate = c ? answerRate(c) : null;
  if (c && rate !== null && ended(c) >= MIN_ENDED && rate * 100 < options.answerBelow)
    alerts.push({ level: 'bad', text: `Answer rate below ${options.answerBelow}%` });
  if (idleMs !== null && idleMs >= options.idleSeconds * 1000)
    alerts.push({ level: 'warn', text: 'Nothing dialling' });
  return alerts;
}

function levelOf(status: string, alerts: Alert[]): Level | null {
  if (alerts.some((a) => a.level === 'bad')) return 'bad';
  if (status === 'PAUSED' || alerts.length > 0) return 'warn';
  return null;
}

/** How a status reads: paused in amber (a threshold too), the others plain (running needs no word). */
const STATUS_LEVEL: Record<string, 'warn' | undefined> = { PAUSED: 'warn' };

const rateText = (rate: number | null) => (rate === null ? '–' : `${Math.round(rate * 100)}%`);

/** The figures of a tile and of the totals, in order: what they say, their value, their text. */
function figuresOf(c: WallCounters) {
  const rate = answerRate(c);
  return [
    { key: 'active', label: 'On calls', value: onTheLine(c), text: count(onTheLine(c)) },
    { key: 'answer-rate', label: 'Answer rate', value: rate, text: rateText(rate) },
    { key: 'completed', label: 'Completed', value: c.completed, text: count(c.completed) },
    { key: 'failed', label: 'Failed', value: c.failed, text: count(c.failed) },
  ];
}

/** One large figure sized to its cell; `digits` (the longest figure of its group) keeps a group's sizes alike. */
function Figure({
  label,
  text,
  value,
  name,
  digits,
  testId,
}: {
  label: string;
  text: string;
  value: number | null;
  name: string;
  digits: number;
  testId?: string;
}) {
  return (
    <div className={styles.figure} data-figure={name} data-value={value ?? ''}>
      <span className={styles.numeral} style={{ '--digits': digits } as CSSProperties} data-testid={testId}>
        {text}
      </span>
      <span className={styles.label}>{label}</span>
    </div>
  );
}

const longest = (texts: string[]) => Math.max(4, ...texts.map((t) => t.length));

function Tile({ tile, alerts }: { tile: BoardTile; alerts: Alert[] }) {
  const c = tile.counters ?? EMPTY;
  const figures = figuresOf(c);
  const digits = longest(figures.map((f) => f.text));
  const level = levelOf(tile.status, alerts);
  const share = done(c);
  return (
    <section
      className={styles.tile}
      data-level={level ?? undefined}
      data-testid="wallboard-tile"
      data-campaign={tile.id}
      data-answered={answered(c)}
      data-ended={ended(c)}
      data-dialled={dialled(c)}
      aria-label={tile.name}
    >
      <div className={styles.inner}>
        <h2 className={styles.name}>
          <span className={styles.nameText}>{tile.name}</span>
          {tile.status !== 'RUNNING' && (
            <span
              className={styles.pill}
              data-level={STATUS_LEVEL[tile.status]}
              data-testid="wallboard-status"
            >
              {tile.status}
            </span>
          )}
        </h2>
        <div className={styles.figures}>
          {figures.map((f) => (
            <Figure
              key={f.key}
              name={f.key}
              label={f.label}
              text={f.text}
              value={f.value}
              digits={digits}
              testId={f.key === 'completed' ? 'wallboard-completed' : undefined}
            />
          ))}
        </div>
        <div className={styles.progress}>
          <span className={styles.bar} aria-hidden="true">
            <span style={{ width: `${share * 100}%` }} />
          </span>
          {alerts.length > 0 ? (
            alerts.map((a) => (
              <span key={a.text} className={styles.pill} data-level={a.level} data-testid="wallboard-alert">
                {a.text}
              </span>
            ))
          ) : (
            <span data-testid="wallboard-progress">
              {Math.round(share * 100)}% done · {count(toCall(c))} to call
            </span>
          )}
        </div>
      </div>
    </section>
  );
}

/**
 * The tenant's totals over the board's campaigns (every page of it): the same figures, added up, and the pace (calls
 * ended per minute over the last minute the board watched).
 */
function Totals({ tiles, pace }: { tiles: BoardTile[]; pace: number | null }) {
  const sum = sumCounters(tiles.map((t) => t.counters ?? EMPTY));
  const figures = [
    ...figuresOf(sum),
    { key: 'to-call', label: 'To call', value: toCall(sum), text: count(toCall(sum)) },
    {
      key: 'per-minute',
      label: 'Calls/min',
      value: pace,
      text: pace === null ? '–' : count(Math.round(pace)),
    },
  ];
  const digits = longest(figures.map((f) => f.text));
  return (
    <section
      className={styles.totals}
      aria-label="Totals"
      data-testid="wallboard-totals"
      data-answered={answered(sum)}
      data-ended={ended(sum)}
      data-dialled={dialled(sum)}
    >
      <h2 className={styles.totalsTitle}>
        <span>All</span>
        <span>
          {tiles.length} {tiles.length === 1 ? 'campaign' : 'campaigns'}
        </span>
      </h2>
      {figures.map((f) => (
        <Figure key={f.key} name={f.key} label={f.label} text={f.text} value={f.value} digits={digits} />
      ))}
    </section>
  );
}

function Freshness({ connected, now }: { connected: boolean; now: number }) {
  const heard = lastHeardAt();
  const ago = heard === null ? null : Math.max(0, Math.round((now - heard) / 1000));
  const stale = heard === null || now - heard > STALE_AFTER_MS;
  return (
    <span className={styles.status}>
      <span className={styles.connection} data-up={connected} role="status" data-testid="connection">
        {connected ? '● Live' : '○ Reconnecting…'}
      </span>
      <span data-stale={stale} data-testid="wallboard-updated">
        {ago === null ? 'not updated yet' : `updated ${ago} s ago`}
      </span>
    </span>
  );
}

export function Board({
  tenantName,
  tiles,
  options,
  connected,
  loaded,
  problems,
  error,
}: {
  tenantName: string | null;
  tiles: BoardTile[];
  options: WallboardOptions;
  connected: boolean;
  loaded: boolean;
  problems: string[];
  /** Why the board's campaigns could not be read (it keeps what it showed, and reads again when back). */
  error: string | null;
}) {
  const now = useNow();
  const [width, height] = useViewport();
  const idleSince = useIdleSince(tiles, now);
  const pace = usePace(tiles, now);
  const pages = Math.max(1, Math.ceil(tiles.length / options.perPage));
  const page = Math.floor(now / (options.rotateSeconds * 1000)) % pages;
  const shown = tiles.slice(page * options.perPage, (page + 1) * options.perPage);
  // The tiles' area is the window less the header and the totals (about a quarter of its height).
  const rows = gridRows(shown.length, width, height * 0.74);
  let next = 0;
  return (
    <div className={styles.board}>
      <header className={styles.header}>
        <h1 className={styles.tenant}>{tenantName ?? 'Wallboard'}</h1>
        {pages > 1 && (
          <span className={styles.page} data-testid="wallboard-page">
            Page {page + 1} of {pages}
          </span>
        )}
        <Freshness connected={connected} now={now} />
        <time className={styles.clock} data-testid="wallboard-clock" dateTime={new Date(now).toISOString()}>
          {clockTime(new Date(now))}
        </time>
      </header>
      {problems.length > 0 && (
        <p className={styles.problems} data-testid="wallboard-problems">
          Ignored in the link: {problems.join('; ')}
        </p>
      )}
      {error && (
        <p className={styles.problems} role="alert">
          The campaigns could not be read: {error}
        </p>
      )}
      <Totals tiles={tiles} pace={pace} />
      <div className={styles.tiles}>
        {rows.map((n) => {
          const row = shown.slice(next, next + n);
          next += n;
          return (
            <div key={row[0]?.id} className={styles.row} style={{ '--cols': n } as CSSProperties}>
              {row.map((t) => {
                const since = idleSince.get(t.id);
                return (
                  <Tile
                    key={t.id}
                    tile={t}
                    alerts={alertsOf(t, since === undefined ? null : now - since, options)}
                  />
                );
              })}
            </div>
          );
        })}
        {loaded && tiles.length === 0 && (
          <p className={styles.empty}>
            {options.campaigns ? 'None of the chosen campaigns was found.' : 'No campaign is running.'}
          </p>
        )}
      </div>
    </div>
  );
}

/** The board's end: its credential was refused. One message, nothing else on screen, no more attempts. */
export function Ended({ kiosk }: { kiosk: boolean }) {
  return (
    <div className={styles.board}>
      <div className={styles.ended} role="alert" data-testid="wallboard-ended">
        <h1>Wallboard stopped</h1>
        {kiosk ? (
          <p>
            The key in this wallboard&apos;s link was revoked or has expired. Ask an administrator for a new
            wallboard link.
          </p>
        ) : (
          <p>
            Your session has ended. <a href="/login">Sign in again</a>.
          </p>
        )}
        <p className={styles.endedNote}>It no longer tries to connect.</p>
      </div>
    </div>
  );
}

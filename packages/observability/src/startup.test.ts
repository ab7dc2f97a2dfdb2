import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { readinessLog, startupPhases } from './startup.ts';

/** A logger whose lines are kept, parsed. */
function captured() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { lines, logger };
}

describe('startupPhases', () => {
  it('logs each phase from the previous mark, the first from the process start, once', () => {
    const { lines, logger } = captured();
    let clock = 1200;
    const phases = startupPhases(() => clock);
    phases.mark('modules');
    clock = 1500;
    phases.mark('schema');
    clock = 1510;
    phases.done(logger, 'started', { url: 'x' });
    phases.done(logger, 'started');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'started',
      url: 'x',
      startupMs: 1510,
      phasesMs: { modules: 1200, schema: 300 },
    });
  });
});

describe('readinessLog', () => {
  it('logs why it is not ready, when it first is, and each change after; nothing while it stays', () => {
    const { lines, logger } = captured();
    let clock = 900;
    const log = readinessLog(logger, () => clock);
    log(false, { postgres: 'connection refused', redis: 'ok' });
    log(false, { postgres: 'connection refused', redis: 'ok' });
    clock = 2500;
    log(true, { postgres: 'ok', redis: 'ok' });
    log(true, { postgres: 'ok', redis: 'ok' });
    log(false, { postgres: 'ok', redis: 'timeout' });
    log(true, { postgres: 'ok', redis: 'ok' });
    expect(lines.map((l) => [l.msg, l.checks ?? null, l.sinceStartMs ?? null])).toEqual([
      ['not ready', { postgres: 'connection refused' }, 900],
      ['ready', null, 2500],
      ['not ready', { redis: 'timeout' }, 2500],
      ['ready again', null, null],
    ]);
  });
});

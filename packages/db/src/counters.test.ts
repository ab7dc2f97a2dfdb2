import { describe, expect, it } from 'vitest';
import { addDelta, counterUpdateSql, isEmptyDelta, transitionDelta } from './counters.ts';

describe('counter deltas', () => {
  it('moves calls between the counters of two statuses', () => {
    expect(transitionDelta('PENDING', 'QUEUED', 3)).toEqual({ pending: -3, queued: 3 });
    expect(transitionDelta('DIALING', 'DIALING')).toEqual({});
  });

  it('adds deltas field by field', () => {
    expect(addDelta({ pending: -1, queued: 1 }, { queued: -1, dialing: 1 })).toEqual({
      pending: -1,
      queued: 0,
      dialing: 1,
    });
  });

  it('writes only the fields that change and bumps the version; nothing for an empty delta', () => {
    expect(counterUpdateSql('c', { pending: -2, queued: 2, dialing: 0 })).toEqual({
      text: expect.stringMatching(
        /SET pending = pending \+ \$2, queued = queued \+ \$3, version = version \+ 1/,
      ),
      values: ['c', -2, 2],
    });
    expect(counterUpdateSql('c', { queued: 0 })).toBeNull();
  });

  it('calls a delta empty only when no counter and no answer key moves', () => {
    expect(isEmptyDelta({})).toBe(true);
    expect(isEmptyDelta({ pending: 0, answers: {} })).toBe(true);
    expect(isEmptyDelta({ answers: { '1': 0 } })).toBe(true);
    expect(isEmptyDelta({ answers: { '1': -1, '2': 1 } })).toBe(false);
    expect(isEmptyDelta({ optOuts: 1 })).toBe(false);
    // An answer moved from key 1 to key 2 and back within one batch changes nothing.
    expect(isEmptyDelta(addDelta({ answers: { '1': -1, '2': 1 } }, { answers: { '1': 1, '2': -1 } }))).toBe(
      true,
    );
  });
});

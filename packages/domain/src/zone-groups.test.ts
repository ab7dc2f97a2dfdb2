import { describe, expect, it } from 'vitest';
import { isValidZoneGroup, zoneGroupKey, zonesOf } from './zone-groups.ts';

describe('zone groups', () => {
  it('writes each zone once, sorted, so the same candidates always make the same key', () => {
    expect(zoneGroupKey(['America/New_York', 'America/Chicago', 'America/New_York'])).toBe(
      'America/Chicago|America/New_York',
    );
    expect(zoneGroupKey(['Europe/Paris'])).toBe('Europe/Paris');
    expect(zonesOf('America/Chicago|America/New_York')).toEqual(['America/Chicago', 'America/New_York']);
    expect(zonesOf('Europe/Paris')).toEqual(['Europe/Paris']);
  });

  it('accepts canonical groups of known zones only', () => {
    expect(isValidZoneGroup('Europe/Paris')).toBe(true);
    expect(isValidZoneGroup('America/Chicago|America/New_York')).toBe(true);
    expect(isValidZoneGroup('America/New_York|America/Chicago')).toBe(false);
    expect(isValidZoneGroup('America/Chicago|Mars/Olympus')).toBe(false);
    expect(isValidZoneGroup('')).toBe(false);
  });
});

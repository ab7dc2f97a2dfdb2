import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './tenant.ts';

describe('npm run tenant: arguments', () => {
  it('reads a command and its options', () => {
    expect(
      parseCommand(['create', '--name', 'Acme', '--slug', 'acme', '--admin-email', 'a@acme.test']),
    ).toEqual({
      command: 'create',
      values: { name: 'Acme', slug: 'acme', 'admin-email': 'a@acme.test' },
    });
    expect(
      parseCommand(['invite', '--slug', 's', '--email', 'e@x.test', '--name', 'N', '--role', 'VIEWER']),
    ).toMatchObject({ command: 'invite', values: { role: 'VIEWER' } });
    for (const argv of [[], ['help'], ['list', '--help'], ['-h']]) expect(parseCommand(argv)).toBe('help');
  });

  it('refuses what a command does not take, or misses, with a message saying what', () => {
    for (const [argv, message] of [
      [
        ['frobnicate'],
        'unknown command "frobnicate" (one of create, list, invite, reset-password, disable, enable)',
      ],
      [['list', '--colour'], "Unknown option '--colour'"],
      [['list', 'extra'], 'unexpected argument "extra"'],
      [['disable', '--slug', 's', '--name', 'x'], 'disable takes no --name'],
      [['create', '--slug', 's'], 'create needs --name, --admin-email'],
      [['create', '--name', '  ', '--slug', 's', '--admin-email', 'a@b.test'], 'create needs --name'],
      [
        ['invite', '--slug', 's', '--email', 'e@x.test', '--name', 'N', '--role', 'BOSS'],
        '--role must be ADMIN, OPERATOR or VIEWER (not "BOSS")',
      ],
      [['create', '--password=yes'], "Option '--password' does not take an argument"],
    ] as const) {
      expect(() => parseCommand([...argv]), argv.join(' ')).toThrow(UsageError);
      expect(() => parseCommand([...argv]), argv.join(' ')).toThrow(message);
    }
  });
});

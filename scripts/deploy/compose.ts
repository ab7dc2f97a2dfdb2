// docker-compose.yml as the drift test reads it: each service, what it runs and which variables it is given.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@outbound/stack';
import { parse } from 'yaml';

export const COMPOSE_FILE = path.join(repoRoot, 'docker-compose.yml');

interface ComposeService {
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: string | (string | { path: string })[];
}

export interface ComposeServiceEnvironment {
  name: string;
  /** entrypoint and command, as one line. */
  commandLine: string;
  /** Variables given a value: a non-empty one, an interpolation (`${VAR…}`, supplied when compose runs), or a
   * bare name passed through from the shell. */
  variables: Set<string>;
}

const words = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join(' ') : (value ?? '');

/** Every service of the compose file (profiles included), YAML merge keys resolved. */
export function composeServices(file = COMPOSE_FILE): ComposeServiceEnvironment[] {
  const document = parse(readFileSync(file, 'utf8'), { merge: true }) as {
    services?: Record<string, ComposeService>;
  };
  return Object.entries(document.services ?? {}).map(([name, service]) => ({
    name,
    commandLine: `${words(service.entrypoint)} ${words(service.command)}`.trim(),
    variables: new Set([...environmentOf(service), ...envFiles(service, path.dirname(file))]),
  }));
}

function environmentOf(service: ComposeService): string[] {
  const environment = service.environment ?? {};
  const entries: [string, string | null][] = Array.isArray(environment)
    ? environment.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, null] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(environment).map(([key, value]) => [key, value === null ? null : String(value)]);
  // A bare name (null) is passed through from the shell that runs compose.
  return entries.filter(([, value]) => value === null || value.trim() !== '').map(([key]) => key);
}

function envFiles(service: ComposeService, dir: string): string[] {
  const files = service.env_file === undefined ? [] : [service.env_file].flat();
  return files
    .map((entry) => path.resolve(dir, typeof entry === 'string' ? entry : entry.path))
    .filter((file) => existsSync(file))
    .flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S.*)$/.exec(line)?.[1])
        .filter((key): key is string => key !== undefined),
    );
}

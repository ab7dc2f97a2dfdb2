import { z } from 'zod';

/** Raised when the environment does not satisfy a process's schema; `problems` names every bad or missing variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type EnvSource = Readonly<Record<string, string | undefined>>;

/**
 * Validates `source` against `shape` and returns the typed result. Empty strings count as unset, so
 * `FOO= npm start` falls back to the default instead of failing on an empty value. Every problem is collected
 * before failing, so one run shows the whole list.
 */
export function parseEnv<Shape extends z.ZodRawShape>(
  shape: Shape,
  source: EnvSource,
): z.infer<z.ZodObject<Shape>> {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const value = source[key];
    if (value !== undefined && value.trim() !== '') cleaned[key] = value.trim();
  }
  const result = z.object(shape).safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const given = cleaned[String(issue.path[0])];
    const missing = given === undefined;
    return `${name}: ${missing ? 'is required but not set' : issue.message}${missing ? '' : ` (got "${given}")`}`;
  });
  throw new ConfigError(problems);
}

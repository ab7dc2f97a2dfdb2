import type { CombinedError } from '@urql/core';
import type { Issues } from '../components/campaign-form';

/**
 * The gateway's validation problems (BAD_USER_INPUT errors carry `extensions.issues`: path and message each) as
 * form issues keyed by the settings path, without the argument name (`input.callerId` -> `callerId`).
 */
export function issuesOf(error: CombinedError | undefined): Issues {
  const issues: Issues = {};
  for (const e of error?.graphQLErrors ?? []) {
    const list = e.extensions?.issues;
    if (!Array.isArray(list)) continue;
    for (const issue of list as { path?: unknown; message?: unknown }[]) {
      if (typeof issue.path !== 'string' || typeof issue.message !== 'string') continue;
      issues[issue.path.replace(/^input\.?/, '') || 'input'] ??= issue.message;
    }
  }
  return issues;
}

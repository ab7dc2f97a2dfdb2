'use client';
import { when } from '../lib/format';
import { CopyButton } from './copy-button';

/** The policy, as the gateway applies it (docs/security.md, Passwords). */
export const PASSWORD_HINT =
  'At least 12 characters; not your name or e-mail address; not a common password. A few unrelated words work well.';

/** Why the gateway refused a new password: its sentences, as a list under the field. */
export function PasswordProblems({ id, problems }: { id: string; problems: string[] }) {
  if (problems.length === 0) return null;
  return (
    <div id={id} role="alert">
      The password is not accepted:
      <ul>
        {problems.map((problem) => (
          <li key={problem}>it {problem}</li>
        ))}
      </ul>
    </div>
  );
}

/**
 * A password link shown once to the ADMIN who asked for it, to copy and hand over (there is no mail server): the link,
 * its expiry, and a copy button.
 */
export function IssuedLink({
  link,
}: {
  link: { url: string; purpose: string; expiresAt: string; user: { email: string } };
}) {
  return (
    <div className="card issued-link" role="status" aria-label="Password link">
      <p>
        <strong>
          Copy this {link.purpose === 'INVITE' ? 'invitation' : 'password reset'} link for {link.user.email}{' '}
          now: it is not shown again.
        </strong>{' '}
        It works once, until {when(link.expiresAt)}.
      </p>
      <code data-testid="issued-link" className="url">
        {link.url}
      </code>{' '}
      <CopyButton text={link.url} label="Copy link" what="link" />
    </div>
  );
}

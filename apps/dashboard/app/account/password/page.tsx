'use client';
import { type FormEvent, useState } from 'react';
import { useMutation } from 'urql';
import { PASSWORD_HINT, PasswordProblems } from '../../../components/passwords';
import { SignedIn, type Viewer } from '../../../components/session';

// Anyone signed in changes their own password: the current one first; the other sessions of the user end.

const CHANGE = `mutation ChangeMyPassword($current: String!, $next: String!) {
  changeMyPassword(currentPassword: $current, newPassword: $next) {
    ... on PasswordChanged { otherSessionsEnded }
    ... on WeakPasswordError { problems }
    ... on Error { message }
  }
}`;

interface Answer {
  otherSessionsEnded?: number;
  problems?: string[];
  message?: string;
}

function ChangePassword() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeated, setRepeated] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const [refused, setRefused] = useState<string | null>(null);
  const [changed, setChanged] = useState<number | null>(null);
  const [state, change] = useMutation<{ changeMyPassword: Answer }>(CHANGE);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setRefused(null);
    setChanged(null);
    if (next !== repeated) return setProblems(['is not the same in both fields']);
    setProblems([]);
    const result = await change({ current, next });
    const answer = result.data?.changeMyPassword;
    if (answer?.otherSessionsEnded !== undefined) {
      setCurrent('');
      setNext('');
      setRepeated('');
      return setChanged(answer.otherSessionsEnded);
    }
    if (answer?.problems) return setProblems(answer.problems);
    setRefused(
      answer?.message ?? result.error?.graphQLErrors[0]?.message ?? 'The password could not be changed.',
    );
  }

  return (
    <main>
      <h1>My password</h1>
      <form
        className="stack card"
        onSubmit={submit}
        aria-label="Change my password"
        aria-describedby="password-hint"
      >
        <label>
          Current password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </label>
        <label>
          New password
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={12}
            value={next}
            onChange={(e) => setNext(e.target.value)}
            aria-invalid={problems.length > 0}
            aria-describedby={problems.length > 0 ? 'password-problems' : undefined}
          />
        </label>
        <label>
          Repeat the new password
          <input
            type="password"
            autoComplete="new-password"
            required
            value={repeated}
            onChange={(e) => setRepeated(e.target.value)}
          />
        </label>
        <p className="hint" id="password-hint">
          {PASSWORD_HINT} Your other sessions (other browsers, devices) are signed out.
        </p>
        <PasswordProblems id="password-problems" problems={problems} />
        {refused && <p role="alert">{refused}</p>}
        <button type="submit" disabled={state.fetching}>
          {state.fetching ? 'Changing…' : 'Change password'}
        </button>
      </form>
      {changed !== null && (
        <p role="status">
          Password changed.{' '}
          {changed === 0 ? 'No other session was open.' : `${changed} other session(s) signed out.`}
        </p>
      )}
    </main>
  );
}

export default function MyPasswordPage() {
  return (
    <SignedIn>
      {(viewer: Viewer) =>
        viewer.kind === 'USER' ? (
          <ChangePassword />
        ) : (
          <main>
            <p role="alert">An API key has no password.</p>
          </main>
        )
      }
    </SignedIn>
  );
}

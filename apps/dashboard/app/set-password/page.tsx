'use client';
import Link from 'next/link';
import { type FormEvent, useEffect, useState } from 'react';
import { useClient, useMutation } from 'urql';
import { PASSWORD_HINT, PasswordProblems } from '../../components/passwords';
import { when } from '../../lib/format';

// Where a password link leads (an invitation or a reset, `/set-password#token=…`): no sign-in needed. The token is
// read from the fragment, which no server ever receives, and taken out of the address bar and history at once.

const LINK = `query Link($token: String!) {
  passwordLink(token: $token) {
    ... on PasswordLinkInfo { email name tenantName purpose expiresAt }
    ... on Error { message }
  }
}`;
const SET = `mutation SetPassword($token: String!, $password: String!) {
  setPassword(token: $token, password: $password) {
    ... on PasswordSet { email }
    ... on WeakPasswordError { problems }
    ... on Error { message }
  }
}`;

interface LinkInfo {
  email: string;
  name: string;
  tenantName: string;
  purpose: 'INVITE' | 'RESET';
  expiresAt: string;
}
type Answer<T> = Partial<T> & { message?: string; problems?: string[] };

function tokenFromFragment(): string | null {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (token) window.history.replaceState(null, '', window.location.pathname);
  return token;
}

export default function SetPasswordPage() {
  const client = useClient();
  const [token, setToken] = useState<string | null>(null);
  const [info, setInfo] = useState<LinkInfo | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [repeated, setRepeated] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const [state, submitPassword] = useMutation<{ setPassword: Answer<{ email: string }> }>(SET);

  useEffect(() => {
    const found = tokenFromFragment();
    if (!found)
      return setInvalid('This page needs the link you were given, in full (it ends with #token=…).');
    setToken(found);
    client
      .query<{ passwordLink: Answer<LinkInfo> }>(LINK, { token: found }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((result) => {
        const answer = result.data?.passwordLink;
        if (answer?.email) setInfo(answer as LinkInfo);
        else
          setInvalid(
            answer?.message ?? result.error?.graphQLErrors[0]?.message ?? 'The link could not be read.',
          );
      });
  }, [client]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (password !== repeated) return setProblems(['is not the same in both fields']);
    setProblems([]);
    const result = await submitPassword({ token, password });
    const answer = result.data?.setPassword;
    if (answer?.email) return setDone(answer.email);
    if (answer?.problems) return setProblems(answer.problems);
    setInvalid(
      answer?.message ?? result.error?.graphQLErrors[0]?.message ?? 'The password could not be set.',
    );
  }

  return (
    <main>
      <div className="card" style={{ maxWidth: 480, margin: '10vh auto' }}>
        <h1>{info?.purpose === 'RESET' ? 'Choose a new password' : 'Set your password'}</h1>
        {done ? (
          <div role="status">
            <p>Your password is set.</p>
            <Link href={`/login?email=${encodeURIComponent(done)}`}>Sign in</Link>
          </div>
        ) : invalid ? (
          <p role="alert">{invalid}</p>
        ) : info ? (
          <form className="stack" onSubmit={submit} aria-describedby="password-hint">
            <p>
              {info.name} ({info.email}), {info.tenantName}. This link works once, until{' '}
              {when(info.expiresAt)}.
            </p>
            <input type="hidden" autoComplete="username" value={info.email} readOnly />
            <label>
              New password
              <input
                type="password"
                autoComplete="new-password"
                required
                minLength={12}
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                aria-invalid={problems.length > 0}
                aria-describedby={problems.length > 0 ? 'password-problems' : undefined}
              />
            </label>
            <label>
              Repeat the password
              <input
                type="password"
                autoComplete="new-password"
                required
                value={repeated}
                onChange={(e) => setRepeated(e.target.value)}
              />
            </label>
            <p className="hint" id="password-hint">
              {PASSWORD_HINT}
            </p>
            <PasswordProblems id="password-problems" problems={problems} />
            <button type="submit" disabled={state.fetching}>
              {state.fetching ? 'Saving…' : 'Set password'}
            </button>
          </form>
        ) : (
          <p aria-busy="true">Reading the link…</p>
        )}
      </div>
    </main>
  );
}

'use client';
import { useRouter } from 'next/navigation';
import { type FormEvent, useEffect, useState } from 'react';
import { useMutation } from 'urql';

const LOGIN = `mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    ... on LoginSuccess { token }
    ... on Error { code message }
  }
}`;

export default function LoginPage() {
  const router = useRouter();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [state, login] = useMutation<{ login: { token?: string; message?: string } }>(LOGIN);
  // Arriving from the set-password page: the address is filled in.
  useEffect(() => {
    const given = new URLSearchParams(window.location.search).get('email');
    if (given) setEmail(given);
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const result = await login({ email, password });
    if (result.error) setProblem(result.error.graphQLErrors[0]?.message ?? result.error.message);
    else if (result.data?.login.token) router.push('/campaigns');
    else setProblem(result.data?.login.message ?? 'Login failed');
  }

  return (
    <main>
      <div className="card" style={{ maxWidth: 420, margin: '10vh auto' }}>
        <h1>Sign in to Outbound</h1>
        <form className="stack" onSubmit={submit} aria-describedby={problem ? 'login-problem' : undefined}>
          <label>
            E-mail
            <input
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
          <label>
            Password
            <input
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          {problem && (
            <p id="login-problem" role="alert">
              {problem}
            </p>
          )}
          <button type="submit" disabled={state.fetching}>
            {state.fetching ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}

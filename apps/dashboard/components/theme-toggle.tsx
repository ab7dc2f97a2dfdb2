'use client';
import { useEffect, useState } from 'react';
import { chooseTheme, currentTheme, type Theme } from '../lib/theme';

/** The header's light/dark switch: pressed while the dark theme is on; the choice is remembered (lib/theme.ts). */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme | null>(null);
  useEffect(() => {
    setTheme(currentTheme());
    // Following the system (no choice made yet): the switch follows it too.
    const query = window.matchMedia('(prefers-color-scheme: dark)');
    const follow = () => setTheme(currentTheme());
    query.addEventListener('change', follow);
    return () => query.removeEventListener('change', follow);
  }, []);
  const dark = theme === 'dark';
  return (
    <button
      type="button"
      className="secondary small theme-toggle"
      aria-pressed={dark}
      onClick={() => {
        const next = dark ? 'light' : 'dark';
        chooseTheme(next);
        setTheme(next);
      }}
    >
      <span aria-hidden="true">{dark ? '☾' : '☀'}</span> <span className="theme-label">Dark theme</span>
    </button>
  );
}

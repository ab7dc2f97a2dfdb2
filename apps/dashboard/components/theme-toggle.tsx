'use client';
import { useEffect, useState } from 'react';
import { chooseTheme, currentTheme, type Theme } from '../lib/theme';

/**
 * The theme in use, following a choice (here or in another tab's toggle of this page) and the system's setting;
 * null before the page runs in the browser. For what draws its own colours (the chart's canvas).
 */
export function useTheme(): [Theme | null, (theme: Theme) => void] {
  const [theme, setTheme] = useState<Theme | null>(null);
  useEffect(() => {
    const follow = () => setTheme(currentTheme());
    follow();
    const system = window.matchMedia('(prefers-color-scheme: dark)');
    system.addEventListener('change', follow);
    const chosen = new MutationObserver(follow);
    chosen.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => {
      system.removeEventListener('change', follow);
      chosen.disconnect();
    };
  }, []);
  return [theme, chooseTheme];
}

/** The header's light/dark switch: pressed while the dark theme is on; the choice is remembered (lib/theme.ts). */
export function ThemeToggle() {
  const [theme, choose] = useTheme();
  const dark = theme === 'dark';
  return (
    <button
      type="button"
      className="secondary small theme-toggle"
      aria-pressed={dark}
      onClick={() => choose(dark ? 'light' : 'dark')}
    >
      <span aria-hidden="true">☾</span> <span className="theme-label">Dark theme</span>
    </button>
  );
}

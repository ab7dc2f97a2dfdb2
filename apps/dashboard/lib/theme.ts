// The console's theme: the system's (prefers-color-scheme) unless the viewer chose light or dark with the header's
// toggle. The choice is kept in localStorage and set as <html data-theme> by a script in the page's <head>, which
// runs before the first paint: no flash of the other theme. globals.css holds the colours of both.

export type Theme = 'light' | 'dark';

export const THEME_KEY = 'outbound-theme';

/** The <head> script: the stored choice onto <html> before anything is drawn (storage may be blocked: then none). */
export const THEME_SCRIPT = `try{var t=localStorage.getItem('${THEME_KEY}');if(t==='light'||t==='dark')document.documentElement.dataset.theme=t}catch(e){}`;

/** The theme in use: the chosen one, else the system's. */
export function currentTheme(): Theme {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === 'light' || chosen === 'dark') return chosen;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** Uses `theme` from now on, on this page and the next visits. */
export function chooseTheme(theme: Theme) {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    // Storage blocked (a locked-down kiosk browser): the choice holds for this page only.
  }
}

// The container health check: `node deploy/healthcheck.mjs <url>` exits 0 when the URL answers 2xx within 3 s,
// 1 otherwise (with the reason on stderr, which `docker inspect` shows). The image's HEALTHCHECK passes HEALTH_URL;
// docker-compose.yml names each service's own /readyz (or the dashboard's /login).
const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: node deploy/healthcheck.mjs <url> (the image passes HEALTH_URL)\n');
  process.exit(1);
}
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) process.stderr.write(`${url} answered ${response.status}\n`);
  process.exit(response.ok ? 0 : 1);
} catch (err) {
  process.stderr.write(`${url}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

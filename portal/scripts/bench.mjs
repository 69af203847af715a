// Navigation -> case list visible on the school home page, p50/p90 over 20 loads (not an asserted
// test: a measurement for docs/benchmarks.md), and the JavaScript the page loaded, gzipped.
// Needs the local stack (infra/up): PORTAL_URL (default http://127.0.0.1:3000), CHROMIUM_PATH.
import { chromium } from '@playwright/test';
import { gzipSync } from 'node:zlib';

const PORTAL = process.env.PORTAL_URL ?? 'http://127.0.0.1:3000';
const LOADS = Number(process.env.LOADS ?? 20);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await (await browser.newContext()).newPage();
await page.goto(PORTAL);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.locator('button[name="user"][value="lead-1001"]').click();
await page.getByTestId('case-list').waitFor();

let js = 0;
page.on('response', async (r) => {
  if (r.url().endsWith('.js')) js = Math.max(js, 0) + gzipSync(await r.body(), { level: 9 }).length;
});
const times = [];
for (let i = 0; i < LOADS; i++) {
  js = 0;
  // a full navigation each time (HTML, the cached bundle, config.json, /me, /referrals, /cases);
  // the time is the page's own clock from navigation start to the list being in the DOM
  await page.goto(PORTAL + '/', { waitUntil: 'commit' });
  const ms = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const found = () => document.querySelector('[data-testid="case-list"]');
        if (found()) return resolve(performance.now());
        new MutationObserver((_, obs) => {
          if (found()) {
            obs.disconnect();
            resolve(performance.now());
          }
        }).observe(document, { childList: true, subtree: true });
      }),
  );
  times.push(Math.round(ms));
}
const cases = await page.locator('.case-card').count();
await browser.close();
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
process.stdout.write(JSON.stringify({ loads: LOADS, casesShown: cases, p50ms: pct(50), p90ms: pct(90), minMs: times[0], maxMs: times[times.length - 1], homeJsGzipBytes: js }) + "\n");

// The JavaScript the school home page loads (every script and module preload index.html names,
// the app being one bundle), gzipped; fails over the budget. Run after `npm run build`.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const BUDGET = 150 * 1024;
const html = readFileSync('dist/index.html', 'utf8');
const srcs = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="([^"]+\.js)"/g)].map((m) => m[1]);
if (!srcs.length) {
  process.stderr.write('no scripts found in dist/index.html\n');
  process.exit(1);
}
let total = 0;
for (const s of srcs) {
  const gz = gzipSync(readFileSync(join('dist', s)), { level: 9 }).length;
  total += gz;
  process.stdout.write(`${s}: ${gz} bytes gzipped\n`);
}
process.stdout.write(`home page JavaScript: ${total} bytes gzipped (budget ${BUDGET})\n`);
if (total > BUDGET) {
  process.stderr.write(`over the budget by ${total - BUDGET} bytes\n`);
  process.exit(1);
}

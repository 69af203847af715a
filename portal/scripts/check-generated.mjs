// Fails when src/api/schema.d.ts is not what openapi-typescript makes of ../docs/openapi.yaml now
// (run `npm run gen` and commit the result).
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'portal-gen-'));
const out = join(dir, 'schema.d.ts');
try {
  execFileSync(process.execPath, ['node_modules/openapi-typescript/bin/cli.js', '../docs/openapi.yaml', '-o', out], { stdio: 'pipe' });
  const fresh = readFileSync(out, 'utf8');
  const committed = readFileSync('src/api/schema.d.ts', 'utf8');
  if (fresh !== committed) {
    process.stderr.write('src/api/schema.d.ts is out of date with docs/openapi.yaml: run `npm run gen` in portal/ and commit it.\n');
    process.exit(1);
  }
  process.stdout.write('src/api/schema.d.ts matches docs/openapi.yaml\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Sums the results of every runner `scripts/test-all.sh` ran into one line,
// `N passed, N failed`, because CI reads that line and not jest's or
// Playwright's own summaries. Exits non-zero when anything failed.
// Type check, lint and the app build count as one check each; jest and
// Playwright count their tests (a runner that crashed before writing its
// report counts as one failure, so a crash can never read as green).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const read = f => JSON.parse(readFileSync(join(dir, f), 'utf8'));
let passed = 0;
let failed = 0;
const lines = [];

for (const file of readdirSync(dir).filter(f => f.endsWith('.step.json'))) {
  const { runner, ok, seconds } = read(file);
  let p = 0;
  let f = 0;
  if (runner === 'jest' && existsSync(join(dir, 'jest.json'))) {
    const jest = read('jest.json');
    p = jest.numPassedTests;
    // Suites that failed to run (syntax errors, crashed setup) have no tests.
    f = jest.numFailedTests + jest.numRuntimeErrorTestSuites;
  } else if (
    runner === 'playwright' &&
    existsSync(join(dir, 'playwright.json'))
  ) {
    const { stats } = read('playwright.json');
    p = stats.expected + stats.flaky;
    f = stats.unexpected;
  } else if (existsSync(join(dir, `${runner}.counts.json`))) {
    // A runner that counts its own checks ({ passed, failed }), e.g. replicas.
    ({ passed: p, failed: f } = read(`${runner}.counts.json`));
  } else {
    p = ok ? 1 : 0;
  }
  if (!ok && f === 0) f = 1;
  lines.push(
    `${runner.padEnd(11)} ${String(p).padStart(4)} passed ${String(f).padStart(
      3,
    )} failed  (${seconds}s)`,
  );
  passed += p;
  failed += f;
}

console.log(lines.join('\n'));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

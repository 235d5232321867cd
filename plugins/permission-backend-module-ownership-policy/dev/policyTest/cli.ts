/*
 * `yarn policy:test [--config <app-config file>]... [<cases file>]...`
 *
 * Runs policy cases ("ada.admin may delete component:default/x: allow")
 * against the policy configured in app-config.yaml, with the catalog each
 * case file describes. Exit code 0: every case passed; 1: a case failed;
 * 2: a case file or the configuration could not be read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { MalformedCaseError } from './cases';
import { runPolicyTestFile } from './runPolicyTests';

const PACKAGE_ROOT = path.dirname(
  require.resolve(
    '@internal/plugin-permission-backend-module-ownership-policy/package.json',
  ),
);

function parseArgs(argv: string[]) {
  // Relative paths are taken from where the command was typed.
  const base = process.env.INIT_CWD ?? process.cwd();
  const configs: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config') {
      if (!argv[i + 1]) throw new MalformedCaseError('--config needs a file');
      configs.push(path.resolve(base, argv[++i]));
    } else if (argv[i] === '--help' || argv[i] === '-h') {
      process.stdout.write(
        'usage: yarn policy:test [--config app-config.yaml]... [cases.yaml]...\n',
      );
      process.exit(0);
    } else {
      files.push(path.resolve(base, argv[i]));
    }
  }
  if (configs.length === 0) {
    configs.push(
      path.join(process.env.PROJECT_CWD ?? process.cwd(), 'app-config.yaml'),
    );
  }
  if (files.length === 0) {
    const dir = path.join(PACKAGE_ROOT, 'policy-tests');
    files.push(
      ...fs
        .readdirSync(dir)
        .filter(f => f.endsWith('.yaml'))
        .sort()
        .map(f => path.join(dir, f)),
    );
  }
  return { configs, files };
}

async function main() {
  const { configs, files } = parseArgs(process.argv.slice(2));
  const appConfigs = configs.map(file => ({
    data: parse(fs.readFileSync(file, 'utf8')) ?? {},
    context: file,
  }));
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const relative = path.relative(process.cwd(), file);
    process.stdout.write(`${relative.startsWith('..') ? file : relative}\n`);
    for (const r of await runPolicyTestFile(file, appConfigs)) {
      if (r.passed) passed++;
      else failed++;
      const got = r.passed
        ? ''
        : `   <- got ${r.actual}${r.detail ? ` (${r.detail})` : ''}`;
      process.stdout.write(
        `  ${r.passed ? 'pass' : 'FAIL'}  ${r.case.text}: ${
          r.case.expected
        }${got}\n`,
      );
    }
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch(error => {
  process.stderr.write(`policy:test: ${error.message}\n`);
  process.exit(2);
});

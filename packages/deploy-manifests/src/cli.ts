/*
 * yarn deploy:generate          writes deploy/helm/values*.yaml and deploy/kubernetes/
 * yarn deploy:generate --check  exits 1 naming the files that are out of date
 */
import { staleGeneratedFiles, writeGeneratedFiles, SETTINGS_FILE } from './generate';

function main() {
  if (process.argv.includes('--check')) {
    const stale = staleGeneratedFiles();
    if (stale.length > 0) {
      process.stderr.write(
        `Out of date with ${SETTINGS_FILE} (run yarn deploy:generate):\n${stale
          .map(file => `  ${file}\n`)
          .join('')}`,
      );
      process.exit(1);
    }
    process.stdout.write(`Up to date with ${SETTINGS_FILE}.\n`);
    return;
  }
  for (const file of writeGeneratedFiles()) {
    process.stdout.write(`wrote ${file}\n`);
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}

#!/usr/bin/env bash
# Every check this repo has, in the order a failure is cheapest to find:
# type check, lint, unit + integration tests (jest, PostgreSQL included),
# then the Playwright e2e suite against the built app, then the replica
# harness (two production backends behind haproxy).
# Ends with one line, `N passed, N failed`, summed over every runner.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

results=node_modules/.cache/test-results
rm -rf "$results" && mkdir -p "$results"
export CI=1 # non-interactive runners: no jest watch mode, Playwright CI mode

step() {
  local name=$1
  shift
  echo "==> $name: $*"
  local start=$SECONDS
  if "$@"; then
    echo "{\"runner\":\"$name\",\"ok\":true,\"seconds\":$((SECONDS - start))}" > "$results/$name.step.json"
  else
    echo "{\"runner\":\"$name\",\"ok\":false,\"seconds\":$((SECONDS - start))}" > "$results/$name.step.json"
    echo "==> $name FAILED"
  fi
}

step tsc yarn tsc
step lint yarn lint:all
step jest yarn backstage-cli repo test --json --outputFile="$results/jest.json"
step build-app yarn build:e2e
step playwright env PLAYWRIGHT_JSON_OUTPUT_NAME="$results/playwright.json" yarn playwright test --reporter=list,json
# Two production backends behind haproxy (~8 min: a backend build, then
# waits for schedules and lock expiry). docs/operations.md, "Several replicas".
step replicas env REPLICAS_COUNTS_FILE="$results/replicas.counts.json" yarn test:replicas

node scripts/summarize-tests.mjs "$results"

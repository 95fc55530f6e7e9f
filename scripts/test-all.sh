#!/usr/bin/env bash
# The one test command (`npm test`): installs what the tests need, starts the real services,
# type-checks, lints and runs every suite, then stops the services it started.
# Works on a fresh machine with nothing installed by hand.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n=== %s ===\n' "$*"; }

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

step "browser for the e2e tests"
bash scripts/ensure-chromium.sh

step "kcat for the integration tests"
bash scripts/ensure-kcat.sh

step "Node 24 for a second run of the unit and topology suites"
NODE24=$(bash scripts/ensure-node24.sh)

step "services"
started_here=0
if ! bash scripts/services.sh status >/dev/null 2>&1; then
  bash scripts/services.sh up
  started_here=1
else
  bash scripts/services.sh status
fi
cleanup() {
  if [ "$started_here" = 1 ]; then
    step "services down"
    bash scripts/services.sh down || true
  fi
}
trap cleanup EXIT

step "typecheck"
npx tsc -p tsconfig.json --noEmit

step "lint"
npx eslint .
npx prettier --check . --log-level warn

step "tests"
# chaos: private Kafka, Redis and MongoDB (other ports) stopped, started and cut under load;
# bounded here (about 3 minutes), longer with `npm run chaos`.
# Every suite runs; the unit suite on both lines. The oldest supported Node (engines) runs the
# suites on the real services, whose CLI processes run on it too; the newest LTS line runs the
# in-memory pipeline (topology). Both full sets on both lines would take the run past 30 minutes.
node --import tsx scripts/run-tests.ts unit integration e2e chaos

step "unit and topology tests on Node 24"
"$NODE24" --import tsx scripts/run-tests.ts unit topology

#!/usr/bin/env bash
# The whole suite: lint, type-check, build, then every test. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
export NO_COLOR=1
status=0
echo "== lint"; npx eslint src test bench webapps --max-warnings 0 || status=1
echo "== type-check"; npx tsc --noEmit -p . || status=1
npx tsc --noEmit -p webapps || status=1
echo "== build"; npx tsc -p tsconfig.build.json || status=1
echo "== tests"
rm -f vitest-report.json vitest-file-times.json
# vitest-file-times.json: each file's time in its worker, import and hooks included (`node scripts/test-times.mjs` keeps
# them in test/file-times.json, the order of the next runs)
npx vitest run --reporter=default --reporter=json --outputFile.json=vitest-report.json --reporter=./test/helpers/file-times-reporter.ts "$@" || status=1
if [ -f vitest-report.json ]; then
  node -e 'const r=require("./vitest-report.json");const skipped=r.numPendingTests+r.numTodoTests;const extra=process.argv[1]==="1"&&r.numFailedTests===0?1:0;console.log(`${r.numPassedTests} passed, ${r.numFailedTests+extra} failed, ${skipped} skipped`)' "$status"
else
  echo "0 passed, 1 failed"
fi
exit $status

#!/usr/bin/env bash
# The test suite's cost of isolation, side by side in one run: the same test files (default: the notifications,
# permissions and settings suites, 20 files that each start a real Hearth) with every file in a fresh module graph
# (`--isolate`, vitest's default, what the suite did before) and with the workers' modules kept from file to file
# (`--no-isolate`, vitest.config.ts), alternately, ROUNDS times. For each run: vitest's own sums (import, tests) and
# wall time, and the CPU time of the whole process tree (GNU time): on a shared machine, the CPU time is the figure
# the load changes least. Prints the lines to paste into bench/RESULTS-suite-isolation.md.
#   bash bench/suite-isolation.sh [files or folders...]      (ROUNDS=2 by default)
set -u
cd "$(dirname "$0")/.."
FILES=("$@")
[ ${#FILES[@]} -eq 0 ] && FILES=(src/notifications src/permissions src/settings)
for round in $(seq 1 "${ROUNDS:-2}"); do
  for mode in isolate no-isolate; do
    echo "== round $round --$mode, load $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -f "wall %e s, cpu user %U s sys %S s" npx vitest run --project default "--$mode" "${FILES[@]}" 2>&1 \
      | sed 's/\x1b\[[0-9;]*m//g' | grep -E "Test Files|Duration|^wall|^ FAIL"
  done
done

#!/bin/sh
# Print the suite's total from the counts the tests appended to $PD_TEST_COUNTS.
f=${PD_TEST_COUNTS:-build/test-counts}
[ -f "$f" ] || { echo "no test counts in $f"; exit 1; }
awk '{p += $1; f += $2} END {printf "total: %d passed, %d failed\n", p, f; exit f > 0}' "$f"

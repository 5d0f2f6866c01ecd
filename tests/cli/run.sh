#!/bin/sh
# CLI tests: each directory tests/cli/<case>/ holds `cmd` (a shell command run
# from the repository root, with $PARADUP the binary under test and $T a
# scratch directory), and the expected standard output (expected.out), standard
# error (expected.err, after dropping the timing summary line) and exit status
# (expected.exit, default 0), compared byte for byte. An optional `setup` script
# runs first (to make large or unstorable inputs in $T). --update rewrites the
# expectations. VALGRIND="valgrind ..." runs paradup under it. A case with a
# `skip` script is left out when that script exits 0.
set -u
bin=${PARADUP:-./paradup}
update=0
[ "${1:-}" = "--update" ] && update=1
pass=0 fail=0
skipped=0
for dir in tests/cli/*/; do
    name=$(basename "$dir")
    # An optional `skip` script exits 0 when the case cannot run here (say,
    # a memory limit under ASan or valgrind, which need far more address space).
    if [ -f "$dir/skip" ] && PARADUP="${VALGRIND:-} $bin" sh "$dir/skip"; then
        skipped=$((skipped + 1))
        continue
    fi
    T=$(mktemp -d)
    PARADUP="${VALGRIND:-} $bin"
    export T PARADUP
    [ -f "$dir/setup" ] && sh "$dir/setup"
    sh -c "$(cat "$dir/cmd")" >"$T/out" 2>"$T/err.raw"
    code=$?
    # Scratch paths read as $T, so expectations do not depend on mktemp.
    grep -Ev '^paradup: [0-9]+ documents, ' "$T/err.raw" | grep -v '^==' | sed "s|$T|\$T|g" >"$T/err"
    sed "s|$T|\$T|g" "$T/out" >"$T/out.tmp" && mv "$T/out.tmp" "$T/out"
    want_exit=$(cat "$dir/expected.exit" 2>/dev/null || echo 0)
    if [ $update = 1 ]; then
        cp "$T/out" "$dir/expected.out"
        cp "$T/err" "$dir/expected.err"
        [ "$code" = 0 ] && rm -f "$dir/expected.exit" || echo "$code" >"$dir/expected.exit"
        pass=$((pass + 1))
    elif [ -n "${VALGRIND:-}" ] && grep -q 'ERROR SUMMARY: [1-9]' "$T/err.raw"; then
        echo "FAIL $name: valgrind reports errors"; grep -E '^==' "$T/err.raw" | head -20
        fail=$((fail + 1))
    elif [ "$code" != "$want_exit" ]; then
        echo "FAIL $name: exit $code, want $want_exit"; head -5 "$T/err"
        fail=$((fail + 1))
    elif ! cmp -s "$T/out" "$dir/expected.out"; then
        echo "FAIL $name: standard output differs"; diff "$dir/expected.out" "$T/out" | head -10
        fail=$((fail + 1))
    elif ! cmp -s "$T/err" "$dir/expected.err"; then
        echo "FAIL $name: standard error differs"; diff "$dir/expected.err" "$T/err" | head -10
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
    rm -rf "$T"
done
echo "cli: $pass passed, $fail failed$([ $skipped = 0 ] || echo ", $skipped skipped")"
[ -n "${PD_TEST_COUNTS:-}" ] && echo "$pass $fail" >>"$PD_TEST_COUNTS"
[ $fail = 0 ]

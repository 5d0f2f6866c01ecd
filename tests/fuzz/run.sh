#!/bin/sh
# make fuzz: build each named target with clang's libFuzzer, ASan and UBSan,
# and run it for FUZZ_TIME seconds (default 60) from its seed corpus. New
# inputs collect in build/fuzz/corpus-NAME (the seeds in tests/fuzz/corpus
# stay as they are); a crash leaves build/fuzz/crash-* and fails the run.
set -u
T=${FUZZ_TIME:-60}
out=build/fuzz
mkdir -p "$out"
lib_src=$(ls src/*.c | grep -v src/cli.c)
status=0
for n in "$@"; do
    bin=$out/fuzz-$n
    clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc -o "$bin" "tests/fuzz/fuzz_$n.c" $lib_src \
        $LIBS || exit 1
    mkdir -p "$out/corpus-$n"
    "$bin" -max_total_time="$T" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/crash-$n-" "$out/corpus-$n" "tests/fuzz/corpus/$n" \
        >"$out/log-$n" 2>&1
    rc=$?
    execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/log-$n")
    cov=$(grep -o 'cov: [0-9]*' "$out/log-$n" | tail -1)
    if [ $rc = 0 ]; then
        echo "fuzz $n: ${T} s, ${execs:-0} runs, $cov, corpus $(ls "$out/corpus-$n" | wc -l) inputs, no crash"
    else
        echo "fuzz $n: FAILED (exit $rc), see $out/log-$n"; grep -A15 'ERROR\|check failed' "$out/log-$n" | head -30
        status=1
    fi
done
exit $status

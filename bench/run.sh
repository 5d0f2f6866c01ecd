#!/bin/sh
# make bench: generate seeded corpora (once, in bench/data/), then print one
# table of throughput, memory and scaling, the exact-mode comparison with awk,
# the accuracy against the brute-force reference, and the share of lightly
# edited copies found by shingle size (bench/edits.c). Medians of RUNS runs
# (default 3). BENCH_LARGE=1 adds a 1 GB corpus. Timings are wall-clock on a
# shared machine: compare the ratios within one run, not across machines.
set -eu
B=build/bench
P=./paradup
D=bench/data
RUNS=${RUNS:-3}
# The throughput and memory targets are stated for word 5-grams, the
# shingle size before it became 3 (2 for sentences): the near rows keep
# -k 5 so that figures compare across versions, and near-k3 is the default.
K5="-k 5"
mkdir -p "$D"
sizes="10 100"
[ "${BENCH_LARGE:-0}" = 1 ] && sizes="$sizes 1000"
for s in $sizes; do
    [ -d "$D/news$s" ] || $B/gen "$D/news$s" "$s" "$s" >/dev/null
    [ -f "$D/news$s.txt" ] || find "$D/news$s" -type f | LC_ALL=C sort | xargs cat > "$D/news$s.txt"
    # The same corpus as JSONL (one record per article), zstd-compressed.
    [ -f "$D/news$s.jsonl.zst" ] || find "$D/news$s" -type f | LC_ALL=C sort | xargs awk '
        function flush() { if (cur != "") printf "{\"id\":\"%s\",\"text\":\"%s\"}\n", cur, buf }
        FNR == 1 { flush(); cur = FILENAME; buf = "" }
        { s = $0; gsub(/\\/, "\\\\\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); buf = buf s "\\n" }
        END { flush() }' | zstd -q -3 > "$D/news$s.jsonl.zst"
    # And as CSV: an id column and the article quoted, its lines inside the quotes.
    [ -f "$D/news$s.csv" ] || { echo "id,text"; find "$D/news$s" -type f | LC_ALL=C sort | xargs awk '
        function flush() { if (cur != "") printf "%s,\"%s\"\n", cur, buf }
        FNR == 1 { flush(); cur = FILENAME; buf = ""; sep = "" }
        { s = $0; gsub(/"/, "\"\"", s); buf = buf sep s; sep = "\n" }
        END { flush() }'; } > "$D/news$s.csv"
done
head -c 1000 "$D/news10.txt" > "$D/tiny.txt"
# Every corpus is measured as it lies in the page cache once read from disk
# (bench/pagecache.c), whatever happened to it since it was made; the 100 MB
# one is measured as just written, too (see below).
for s in $sizes; do
    $B/pagecache "$D/news$s.txt" "$D/news$s" "$D/news$s.jsonl.zst" "$D/news$s.csv"
done

# median SECONDS and max RSS (KB) of RUNS runs of a command, after one run
# not counted; prints "secs rss". The wall time is read with date(1) around
# /usr/bin/time, to the millisecond: time(1)'s %e has steps of 10 ms, 3% of
# a 0.33 s run. The two date calls add about 1 ms to each run (the bench's
# start-up row shows what a process costs). On the development machine (a virtual
# machine whose host takes back memory the guest has left free for about two
# seconds), memory first touched after that costs 5-6 ms per 2 MB against
# 0.13 ms when the guest recycles it: the first run after a pause is 0.1-0.15
# s slower at 100 MB, and with three runs it could decide the median. PAUSE
# (seconds) sleeps before every run instead, to measure that case.
measure() {
    i=-1; : > "$D/.times"
    while [ $i -lt "$RUNS" ]; do
        [ "${PAUSE:-0}" = 0 ] || sleep "$PAUSE"
        [ -z "${BEFORE:-}" ] || sh -c "$BEFORE"
        t0=$(date +%s.%N)
        /usr/bin/time -f "%M" -o "$D/.t" "$@" >/dev/null 2>"$D/.err" || { cat "$D/.err"; exit 1; }
        t1=$(date +%s.%N)
        [ $i -lt 0 ] || echo "$t0 $t1 $(cat "$D/.t")" | awk '{printf "%.3f %s\n", $2 - $1, $3}' >> "$D/.times"
        i=$((i + 1))
    done
    sort -n "$D/.times" | awk '{t[NR]=$1; m=$2>m?$2:m} END {print t[int((NR+1)/2)], m}'
}
# The CPUs of a shared machine need not be equally fast (on the development
# machine one ran paradup -j1 30% slower than the other, for hours). A
# single-threaded run is measured pinned to each CPU in turn; the fastest
# CPU's median counts, so ratios against it are not flattered by a slow CPU.
# The CPUs this process may use (at most 4 are tried).
cpus=$(awk '/^Cpus_allowed_list/ { n = split($2, r, ",")
    for (i = 1; i <= n; i++) { k = split(r[i], a, "-"); for (c = a[1]; c <= a[k]; c++) print c } }' \
    /proc/self/status 2>/dev/null | head -n 4)
command -v taskset >/dev/null 2>&1 || cpus=""
measure1() {
    [ -n "$cpus" ] || { measure "$@"; return; }
    best=""; each=""
    for c in $cpus; do
        r=$(measure taskset -c "$c" "$@")
        each="$each ${r% *}"
        best=$(echo "$best $r" | awk '{ if (NF == 2 || $3 < $1) print $(NF-1), $NF; else print $1, $2 }')
    done
    echo "$best$each" >"$D/.cpus"
    echo "$best"
}
# Scaling, measured in rounds so that every case meets the same host (its
# speed drifts by tens of percent within minutes): in each round a command
# with -j1 pinned to each of the first two CPUs alone, with -j2, and with
# -j1 twice at once, a CPU each, each of the two timed on its own. On a
# shared virtual machine the CPUs may share caches, memory bandwidth or host
# cores, so two CPUs busy at once need not do twice the work of one: the
# pair shows what they do for this workload, and how close -j2 comes to it.
# The pair's second run reads a copy of the file (TWIN): two runs reading the
# same pages at the same time contend for them in the page cache, which the
# two threads of -j2, reading different chunks, do not (100 MB of news: 1.60x
# against 1.86x, in the same minutes).
# measure_scaling FILE TWIN COMMAND...: the command gets -jN and the file.
# Prints the medians "alone0 alone1 j2 pair0 pair1" (seconds).
secs() {
    t0=$(date +%s.%N); "$@" >/dev/null || return 1
    t1=$(date +%s.%N); echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'
}
measure_scaling() {
    f=$1; twin=$2; shift 2
    c0=$(echo $cpus | cut -d' ' -f1); c1=$(echo $cpus | cut -d' ' -f2)
    i=-1; : > "$D/.scaling"
    while [ $i -lt "$RUNS" ]; do
        a0=$(secs taskset -c "$c0" "$@" -j1 "$f") && a1=$(secs taskset -c "$c1" "$@" -j1 "$f") &&
            j2=$(secs "$@" -j2 "$f") || exit 1
        secs taskset -c "$c0" "$@" -j1 "$f" >"$D/.pair0" &
        secs taskset -c "$c1" "$@" -j1 "$twin" >"$D/.pair1"
        wait
        [ $i -lt 0 ] || echo "$a0 $a1 $j2 $(cat "$D/.pair0") $(cat "$D/.pair1")" >> "$D/.scaling"
        i=$((i + 1))
    done
    for k in 1 2 3 4 5; do
        cut -d' ' -f$k "$D/.scaling" | sort -n | awk '{t[NR]=$1} END {printf "%s ", t[int((NR+1)/2)]}'
    done
}
# One row of the table: NAME MB SECONDS UNITS PEAK_RSS_KB (no newline).
row() {
    awk -v n="$1" -v m="$2" -v t="$3" -v u="$4" -v r="$5" -v b="$base_rss" \
        'BEGIN {printf "%-28s %8.1f %8.3f %10.1f %9.0f %9.0f", n, m, t, m/t, u/t, (r-b)*1024/u}'
}
# The awk baseline's row: NAME MB SECONDS (no newline).
awk_row() {
    awk -v n="$1" -v m="$2" -v t="$3" 'BEGIN {printf "%-28s %8.1f %8.3f %10.1f %9s %9s", n, m, t, m/t, "", ""}'
}
units_of() { $P scan -t 1 -o /dev/null "$1" 2>&1 | sed -n 's/.* documents, \([0-9]*\) units.*/\1/p'; }
# after a measure1 row: the median on each CPU
per_cpu() { cut -d' ' -f3- "$D/.cpus" | awk '{ printf "   (fastest CPU; each:"; for (i = 1; i <= NF; i++) printf " %s", $i; print ")" }'; }
# A file's size in MB of 10^6 bytes, as the corpora are named (news100.txt
# holds 100,001,043 bytes). Before the twenty-second round the column was
# du -m, MiB rounded up (96 for that file), and MB/s read 4.6% lower.
mb() { wc -c < "$1" | awk '{printf "%.1f", $1 / 1e6}'; }

echo "paradup bench, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), RUNS=$RUNS"
base_rss=$(measure $P scan -q -o /dev/null "$D/tiny.txt" | cut -d' ' -f2)
# Start-up: the mean wall time of 200 runs on 1 KB (perf stat), against /bin/true
# (process creation alone); without perf, 200 runs in a shell loop.
if perf stat -r 2 true >/dev/null 2>&1; then
    st() { perf stat -r 200 "$@" 2>&1 >/dev/null | awk '/seconds time elapsed/ {printf "%.2f", $1 * 1000}'; }
    echo "start-up on 1 KB: $(st $P scan -q -o /dev/null "$D/tiny.txt") ms per run (near), $(st $P scan -q -t 1 -o /dev/null "$D/tiny.txt") ms (exact), /bin/true $(st /bin/true) ms (perf stat -r 200); base RSS ${base_rss} KB"
else
    t0=$(date +%s.%N); i=0; while [ $i -lt 200 ]; do $P scan -q -o /dev/null "$D/tiny.txt"; i=$((i + 1)); done
    t1=$(date +%s.%N); i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i + 1)); done; t2=$(date +%s.%N)
    echo "start-up on 1 KB: $(echo "$t0 $t1 $t2" | awk '{printf "%.2f ms per run, /bin/true %.2f ms", ($2-$1)*5, ($3-$2)*5}') (shell loop of 200); base RSS ${base_rss} KB"
fi
echo
printf '%-28s %8s %8s %10s %9s %9s\n' "run" "MB" "sec" "MB/s" "units/s" "B/unit"
for s in $sizes; do
    f="$D/news$s.txt"; m=$(mb "$f"); u=$(units_of "$f")
    eval "u_$s=$u"
    # BENCH_COLD=1 (as root) adds the directory read with the page cache
    # dropped before each run: the whole machine's cache.
    cold=""; [ "${BENCH_COLD:-0}" = 1 ] && [ -w /proc/sys/vm/drop_caches ] && cold="near-dir-cold -j2"
    for mode in "near -j2" "near -j1" "near-k3 -j2" "exact -j2" "exact -j1" "exact-to-file -j2" \
        "near-sentence -j2" "near-dir -j2" ${cold:+"$cold"} "near-jsonl.zst -j2" "near-csv -j2"; do
        set -- $mode
        m1=measure; [ "$2" = -j1 ] && m1=measure1
        case $1 in
        near) r=$($m1 $P scan -q $K5 $2 -o /dev/null "$f") ;;
        near-k3) r=$(measure $P scan -q $2 -o /dev/null "$f") ;;
        exact) r=$($m1 $P scan -q -t 1 $2 -o /dev/null "$f") ;;
        # the report written to a file, as a user would, not to /dev/null
        exact-to-file) r=$(measure $P scan -q -t 1 $2 -o "$D/.report.csv" "$f"); rm -f "$D/.report.csv" ;;
        near-sentence) r=$(measure $P scan -q $K5 -u sentence $2 -o /dev/null "$f") ;;
        near-dir) r=$(measure $P scan -q $K5 $2 -o /dev/null "$D/news$s") ;;
        near-dir-cold) r=$(BEFORE="sync; echo 3 >/proc/sys/vm/drop_caches" measure $P scan -q $K5 $2 -o /dev/null "$D/news$s") ;;
        near-jsonl.zst) r=$(measure $P scan -q $K5 $2 -o /dev/null "$D/news$s.jsonl.zst") ;;
        near-csv) r=$(measure $P scan -q $K5 $2 -o /dev/null "$D/news$s.csv") ;;
        esac
        t=${r% *}; rss=${r#* }
        eval "t_$(echo "$1" | tr -c 'a-z0-9\n' '_')_${2#-}_$s=$t"
        eval "rss_$(echo "$1" | tr -c 'a-z0-9\n' '_')_${2#-}_$s=$rss"
        row "$1 $2 ($s MB)" "$m" "$t" "$u" "$rss"
        [ "$m1" = measure1 ] && [ -n "$cpus" ] && per_cpu || echo
        # what all the CPUs together could do, in units of the fastest one
        [ "$1 $2" = "near -j1" ] && [ -n "$cpus" ] &&
            cap=$(cut -d' ' -f1,3- "$D/.cpus" | awk '{ s = 0; for (i = 2; i <= NF; i++) s += $1 / $i; printf "%.2f", s }')
    done
    r=$(measure1 sh -c "LC_ALL=C awk '!seen[\$0]++' '$f' > /dev/null"); ta=${r% *}
    awk_row "awk '!seen[\$0]++' ($s MB)" "$m" "$ta"
    [ -n "$cpus" ] && per_cpu || echo
    eval "te=\$t_exact_j2_$s; tn1=\$t_near_j1_$s; tn2=\$t_near_j2_$s"
    awk -v a="$ta" -v e="$te" -v n1="$tn1" -v n2="$tn2" -v s="$s" \
        'BEGIN {printf "ratios (%s MB): exact -j2 vs awk %.2fx faster; near -j2 vs -j1 %.2fx", s, a/e, n1/n2}'
    [ -n "${cap:-}" ] && echo " (the CPUs' sum: ${cap}x the fastest)" || echo
    if [ "$(echo $cpus | wc -w)" -ge 2 ]; then
        cp "$f" "$D/.twin.txt" && $B/pagecache "$D/.twin.txt"
        measure_scaling "$f" "$D/.twin.txt" $P scan -q $K5 -o /dev/null | awk -v r="$RUNS" '{
        b = $1 < $2 ? $1 : $2
        printf "   scaling, near, %d rounds: -j1 alone %.3f and %.3f s, -j2 %.3f s: %.2fx the faster CPU alone;\n", r, $1, $2, $3, b / $3
        printf "   two -j1 at once, a CPU and a copy of the file each: %.3f and %.3f s: %.2fx its work (what both CPUs give this workload); -j2 reaches %.0f%% of that\n", $4, $5, b / $4 + b / $5, 100 * (b / $3) / (b / $4 + b / $5) }'
        rm -f "$D/.twin.txt"
    fi
    echo
done
# The 100 MB corpus as a file just written an article at a time (as a
# crawler appends its pages) lies in the page cache: in 4 KB pages, until it
# is evicted. The main rows again on such a copy.
a="$D/.appended.txt"
find "$D/news100" -type f | LC_ALL=C sort | xargs cat > "$a"
sync "$a"
echo "the 100 MB corpus as just written, an article a write: reading it takes $($B/pagecache -t "$a") ms," \
    "as read from disk $($B/pagecache -t "$D/news100.txt") ms (pread of 1 MB, one thread)"
for mode in "near -j2" "near -j1" "exact -j2" "exact -j1"; do
    set -- $mode
    m1=measure; [ "$2" = -j1 ] && m1=measure1
    [ "$1" = near ] && r=$($m1 $P scan -q $K5 $2 -o /dev/null "$a") || r=$($m1 $P scan -q -t 1 $2 -o /dev/null "$a")
    eval "ta_${1}_${2#-}=${r% *}"
    row "$1 $2 (100 MB written)" "$(mb "$a")" "${r% *}" "$u_100" "${r#* }"
    [ "$m1" = measure1 ] && [ -n "$cpus" ] && per_cpu || echo
done
r=$(measure1 sh -c "LC_ALL=C awk '!seen[\$0]++' '$a' > /dev/null")
awk_row "awk '!seen[\$0]++' (written)" "$(mb "$a")" "${r% *}"
[ -n "$cpus" ] && per_cpu || echo
awk -v a="${r% *}" -v e="$ta_exact_j2" -v n1="$ta_near_j1" -v n2="$ta_near_j2" \
    'BEGIN {printf "ratios (100 MB written): exact -j2 vs awk %.2fx faster; near -j2 vs -j1 %.2fx\n\n", a/e, n1/n2}'
rm -f "$a"
# The same kind of corpus in seven scripts (gen's `world`: Latin, Latin
# with accents, Cyrillic, Greek, Han, Hangul, Devanagari), where most bytes
# are >= 0x80 and normalization leaves the ASCII loops.
[ -d "$D/world100" ] || $B/gen "$D/world100" 100 100 world >/dev/null
[ -f "$D/world100.txt" ] || find "$D/world100" -type f | LC_ALL=C sort | xargs cat > "$D/world100.txt"
$B/pagecache "$D/world100.txt"
f="$D/world100.txt"; m=$(mb "$f"); u=$(units_of "$f")
for mode in near exact; do
    [ $mode = near ] && r=$(measure $P scan -q $K5 -j2 -o /dev/null "$f") || r=$(measure $P scan -q -t 1 -j2 -o /dev/null "$f")
    t=${r% *}; eval "tw_$mode=$t"
    awk -v n="$mode -j2 (100 MB world)" -v m="$m" -v t="$t" -v u="$u" -v r="${r#* }" -v b="$base_rss" \
        'BEGIN {printf "%-28s %8.1f %8.3f %10.1f %9.0f %9.0f\n", n, m, t, m/t, u/t, (r-b)*1024/u}'
done
awk -v n="$t_near_j2_100" -v e="$t_exact_j2_100" -v wn="$tw_near" -v we="$tw_exact" -v un="$u_100" -v uw="$u" \
    'BEGIN {printf "7 scripts vs news (100 MB, -j2), time per unit: near %.2fx, exact %.2fx\n\n", (wn/uw)/(n/un), (we/uw)/(e/un)}'
# The main case once more, each run after a pause of 3 s (see measure).
r=$(PAUSE=3 measure $P scan -q $K5 -j2 -o /dev/null "$D/news100.txt")
echo "near -j2 (100 MB), each run after a 3 s pause: ${r% *} s (see measure() in bench/run.sh)"
echo
# Memory per unit without the fixed part: the growth of peak RSS from the
# 10 MB run to the 100 MB one, per unit added (peak RSS is the largest of
# the RUNS runs, as in the table).
for k in near_j2 exact_j2 near_dir_j2 near_jsonl_zst_j2; do
    eval "echo \$rss_${k}_10 \$rss_${k}_100"
done | awk -v u1="$u_10" -v u2="$u_100" -v names="near -j2,exact -j2,near-dir -j2,near-jsonl.zst -j2" '
    BEGIN { split(names, n, ","); printf "peak RSS growth per unit, 10 -> 100 MB:" }
    { printf "%s %s %.0f B", (NR > 1 ? "," : ""), n[NR], ($2 - $1) * 1024 / (u2 - u1) }
    END { print "" }'
echo
# Paragraphs of 150 words (1 KB), each again later with one word changed
# (bench/paras.awk): every paragraph is a candidate, and verification keeps
# a profile of each, 4 bytes a shingle, until clustering. Past
# --verify-memory (48 bytes a unit by default) the profiles go to a
# temporary file; --verify-memory 64G holds them all in memory, for
# comparison in the same run.
# The growth is taken from 100 to 300 MB: at 10 MB the scan's buffers
# (about 17 MB at -j2) are not yet all in use, which would count them as
# growth of 1 KB units.
for s in 100 300; do
    [ -f "$D/paras$s.txt" ] || awk -v n=$((s * 580)) -f bench/paras.awk > "$D/paras$s.txt"
done
$B/pagecache "$D/paras100.txt" "$D/paras300.txt"
for vm in "" "--verify-memory 64G"; do
    r1=$(measure $P scan -q -u paragraph $vm -j2 -o /dev/null "$D/paras100.txt")
    r3=$(measure $P scan -q -u paragraph $vm -j2 -o /dev/null "$D/paras300.txt")
    echo "$r1 $r3" | awk -v u1=$((100 * 580 * 2)) -v u2=$((300 * 580 * 2)) -v how="${vm:-default}" \
        '{printf "paragraphs with near copies, -u paragraph -j2, verify memory %s: 100 MB %.2f s %d KB, 300 MB %.2f s %d KB; growth %.0f B/unit\n", how, $1, $2, $3, $4, ($4 - $2) * 1024 / (u2 - u1)}'
done
echo
# Time linear in the input: the 1 GB run against the 100 MB one (ideal 10x).
# The rows above were measured minutes apart, and the host's speed drifts by
# tens of percent within minutes; and a median of three 0.3 s runs can fall
# in a quiet moment of the host where a 3 s run cannot. So it is measured in
# rounds too: each round runs 100 MB ten times, one run after the other, and
# then 1 GB twice, so that both sizes cover about the same stretch of the
# host's time. The first 1 GB run touches about 300 MB more memory than the
# runs before it freed, which this host charges for when fresh (see
# measure()); the second finds the memory the first freed, as each 100 MB run
# finds its predecessor's. A round's ratios are each 1 GB run against the
# mean of its ten 100 MB runs; the medians of RUNS rounds count, after one
# round that is not.
# measure_growth COMMAND...: the command gets each file. Prints the medians
# "small first second ratio1 ratio2" (small: the mean of a round's ten runs).
measure_growth() {
    i=-1; : > "$D/.growth"
    while [ $i -lt "$RUNS" ]; do
        a=0
        for k in 1 2 3 4 5 6 7 8 9 10; do
            t=$(secs "$@" "$D/news100.txt") || exit 1
            a=$(echo "$a $t" | awk '{printf "%.3f", $1 + $2}')
        done
        b=$(secs "$@" "$D/news1000.txt") && c=$(secs "$@" "$D/news1000.txt") || exit 1
        [ $i -lt 0 ] || echo "$a $b $c" |
            awk '{printf "%.4f %s %s %.2f %.2f\n", $1 / 10, $2, $3, $2 * 10 / $1, $3 * 10 / $1}' >> "$D/.growth"
        i=$((i + 1))
    done
    for k in 1 2 3 4 5; do
        cut -d' ' -f$k "$D/.growth" | sort -n | awk '{t[NR]=$1} END {printf "%s ", t[int((NR+1)/2)]}'
    done
}
if [ "${BENCH_LARGE:-0}" = 1 ]; then
    awk -v n1="$t_near_j2_100" -v n2="$t_near_j2_1000" -v e1="$t_exact_j2_100" -v e2="$t_exact_j2_1000" \
        'BEGIN {printf "ratios (1000 MB vs 100 MB, -j2, the rows above): near %.1fx, exact %.1fx\n", n2/n1, e2/e1}'
    for mode in near exact; do
        [ $mode = near ] && set -- $K5 || set -- -t 1
        measure_growth $P scan -q "$@" -j2 -o /dev/null | awk -v m="$mode" -v r="$RUNS" '{
        printf "   %s -j2, %d rounds of 100 MB ten times, then 1 GB twice: %.3f s (the mean), %.3f and %.3f s;", m, r, $1, $2, $3
        printf " 1 GB %.1fx 100 MB after the small runs, %.1fx after itself\n", $4, $5 }'
    done
    echo
fi
# A banner repeated 10^6 times against 10^6 distinct lines of about the same
# length (random words), and 10^6 variants of one template (a number differs:
# J ~ 0.75 to each other, so every LSH bucket is huge: the worst case).
[ -f "$D/banner.txt" ] || awk 'BEGIN { for (i = 0; i < 1000000; i++) print "Subscribe now for unlimited access to all our local news coverage" }' > "$D/banner.txt"
[ -f "$D/distinct.txt" ] || awk 'BEGIN { srand(1); for (i = 0; i < 1000000; i++) { l = "w" int(rand() * 50000); for (j = 1; j < 10; j++) l = l " w" int(rand() * 50000); print l } }' > "$D/distinct.txt"
[ -f "$D/variants.txt" ] || awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "Subscribe now for unlimited access to local news, line %09d\n", i }' > "$D/variants.txt"
$B/pagecache "$D/banner.txt" "$D/distinct.txt" "$D/variants.txt"
rb=$(measure $P scan -q $K5 -o /dev/null "$D/banner.txt"); ru=$(measure $P scan -q $K5 -o /dev/null "$D/distinct.txt")
rv=$(measure $P scan -q $K5 -o /dev/null "$D/variants.txt")
echo "$rb $ru" | awk '{printf "banner x 10^6: %.2f s, %d KB; 10^6 distinct lines: %.2f s, %d KB; time ratio %.2f\n", $1, $2, $3, $4, $1/$3}'
echo "$rv" | awk '{printf "10^6 variants of one template (worst case for LSH buckets): %.2f s, %d KB\n", $1, $2}'
# Three lines of 0.96 MB of Han with no ASCII (each one unit, under
# --max-unit-bytes), each ending in a combining mark that the normalize
# step's code point cache leaves to utf8proc: the run is tried from the cache
# once, not once per 64 code points that utf8proc reads (12.8 s at 30b3a9c).
[ -f "$D/longrun.txt" ] || awk 'BEGIN { for (l = 0; l < 3; l++) { for (i = 0; i < 320000; i++)
    printf "\346\235\261"; printf "\343\201\213\343\202\231\n" } }' > "$D/longrun.txt"
rl=$(measure $P scan -q -t 1 -o /dev/null "$D/longrun.txt")
echo "$rl" | awk '{printf "3 lines of 0.96 MB of Han, each ending in a combining mark: %.2f s, %d KB\n", $1, $2}'
echo
# Output identical across thread counts
$P scan -q -j1 -o "$D/.j1.csv" "$D/news10" && $P scan -q -j2 -o "$D/.j2.csv" "$D/news10" &&
    $P scan -q -j8 -o "$D/.j8.csv" "$D/news10" && cmp -s "$D/.j1.csv" "$D/.j2.csv" &&
    cmp -s "$D/.j1.csv" "$D/.j8.csv" && echo "output identical for -j1, -j2, -j8 (10 MB)"
echo
$B/accuracy "$D/news10"
# Lightly edited copies of the corpus's paragraphs found, by shingle size.
echo
$B/edits "$D/news10.txt"
echo
$B/edits "$D/news10.txt" 4000 0.8 sentence
# The same in seven scripts: the reference normalizes with the library's
# pd_normalize(), which has no cache, and the scan with its threads' caches.
[ -d "$D/world10" ] || $B/gen "$D/world10" 10 10 world >/dev/null
echo
echo "the same corpus in seven scripts (gen ... world):"
$B/accuracy "$D/world10"
# Sentences of hard-wrapped text found whole (bench/wrapped.sh), on the
# licences the system ships, when it has them.
if [ -r /usr/share/common-licenses/GPL-3 ]; then
    echo
    echo "units of hard-wrapped text found whole (bench/wrapped.sh):"
    PARADUP=$P sh bench/wrapped.sh
fi
# Typeset text set at two widths (bench/manpages.sh), on the manual pages
# the system ships, when it has man(1).
if command -v man >/dev/null 2>&1 && [ -d /usr/share/man/man1 ]; then
    echo
    PARADUP=$P sh bench/manpages.sh
fi

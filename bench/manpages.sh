#!/bin/sh
# bench/manpages.sh [N]: typeset text set at two widths. N manual pages of
# this system (default 200: every third page of sections 1, 5 and 8, but
# those of the cloud tool that has thousands) are rendered by man(1) at 80
# and at 60 columns, hyphenated and justified as groff sets them. The
# figures are the share of the 80-column paragraphs of 8 words or more
# found in the same page at 60 columns, as line units (paragraphs, as the
# text was before it was set) and as sentences, exact (-t 1) and at the
# default threshold. PARADUP_FLAGS adds flags (say --normalize without
# hyphens, or --no-unwrap).
set -eu
P=${PARADUP:-./paradup}
N=${1:-200}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
mkdir -p "$T/80" "$T/60"
ls /usr/share/man/man1/*.gz /usr/share/man/man5/*.gz /usr/share/man/man8/*.gz 2>/dev/null |
    grep -v gcloud | awk 'NR % 3 == 0' | head -n "$N" | while read -r f; do
    b=${f##*/}
    for w in 80 60; do
        MANWIDTH=$w LANG=C.UTF-8 man -P cat -l "$f" >"$T/$w/${b%.gz}.txt" 2>/dev/null || true
    done
done

# share UNIT T: "found total" for the 80-column units of 8 words or more
share() {
    "$P" scan -q -u "$1" -t "$2" ${PARADUP_FLAGS:-} "$T/80" "$T/60" -o "$T/rows.csv"
    "$P" scan -q -u "$1" -t 1 ${PARADUP_FLAGS:-} "$T/80" "$T/80" -o "$T/self.csv"
    # rows: "cluster","doc","unit",...,"text","source"; a unit of an
    # 80-column page is found when its cluster holds a row of the same
    # page at 60 columns
    awk -F'","' '
        function page(d) { sub(/.*\//, "", d); return d }
        function long(t) { return split(t, w, " ") >= 8 }
        FILENAME ~ /self/ { if (long($12) && $2 ~ /\/80\//) all[page($2) "," $3] = 1; next }
        FNR > 1 {
            c = substr($1, 2)
            if ($2 ~ /\/60\//) at60[c "," page($2)] = 1
            else if (long($12)) mine[page($2) "," $3] = c
        }
        END {
            n = 0; for (k in mine) { split(k, a, ","); if ((mine[k] "," a[1]) in at60) n++ }
            t = 0; for (k in all) t++
            print n, t }' "$T/rows.csv" "$T/self.csv"
}

pages=$(ls "$T/80" | wc -l)
echo "$pages manual pages at 80 and 60 columns: paragraphs of 8 words or more found"
printf '%-10s %14s %14s\n' unit exact "T = 0.8"
for u in line sentence; do
    e=$(share $u 1)
    d=$(share $u 0.8)
    echo "$u $e $d" | awk '{ printf "%-10s %6.1f%% %6d %6.1f%% %6d\n", $1,
        $3 ? 100 * $2 / $3 : 0, $3, $5 ? 100 * $4 / $5 : 0, $5 }'
done

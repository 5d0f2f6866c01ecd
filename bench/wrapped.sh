#!/bin/sh
# bench/wrapped.sh [FILE...]: sentences of hard-wrapped text found whole.
# Each FILE (default: the licences in /usr/share/common-licenses) is scanned
# with `-u sentence -t 1` next to a copy of itself whose paragraphs (blocks
# between blank lines) are each unwrapped onto one line; the figure is the
# share of the copy's sentences that the wrapped file holds too, as exact
# repeats. A sentence cut at a line end of the wrapped file is not found.
set -eu
P=${PARADUP:-./paradup}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
[ $# -gt 0 ] || set -- /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0 \
    /usr/share/common-licenses/MPL-2.0 /usr/share/common-licenses/Artistic \
    /usr/share/common-licenses/LGPL-2.1 /usr/share/common-licenses/GFDL-1.3
printf '%-40s %9s %9s %7s\n' file sentences found share
for f in "$@"; do
    [ -r "$f" ] || { echo "wrapped.sh: cannot read $f" >&2; continue; }
    awk 'BEGIN { RS = "" } { gsub(/[ \t\r]*\n[ \t\r]*/, " "); sub(/^[ \t]+/, ""); print }' "$f" \
        >"$T/unwrapped.txt"
    cp "$f" "$T/wrapped.txt"
    # rows: cluster,doc,...: a sentence of the copy is found when its
    # cluster holds a row of the wrapped file
    "$P" scan -q -u sentence -t 1 "$T/unwrapped.txt" "$T/wrapped.txt" -o "$T/rows.csv"
    total=$("$P" scan -u sentence -t 1 "$T/unwrapped.txt" -o /dev/null 2>&1 |
        sed -n 's/^paradup: [0-9]* documents, \([0-9]*\) units.*/\1/p')
    found=$(awk -F'","' 'NR > 1 {
            c = substr($1, 2); d = $2; u = $3
            if (d ~ /wrapped.txt$/ && d !~ /unwrapped/) w[c] = 1; else mine[c "," u] = c
        } END { n = 0; for (k in mine) if (mine[k] in w) n++; print n }' "$T/rows.csv")
    awk -v f="$f" -v t="$total" -v n="$found" \
        'BEGIN { printf "%-40s %9d %9d %6.0f%%\n", substr(f, length(f) > 40 ? length(f) - 39 : 1), t, n, t ? 100 * n / t : 0 }'
done

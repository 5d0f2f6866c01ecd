#!/bin/sh
# bench/wrapped.sh [FILE...]: units of hard-wrapped text found whole.
# Each FILE (default: the licences in /usr/share/common-licenses) is scanned
# with `-t 1` next to a copy of itself whose paragraphs (blocks between
# blank lines) are each unwrapped onto one line; the figures are the share
# of the copy's sentences (`-u sentence`) and of its lines, each a paragraph
# (`-u line`), that the wrapped file holds too, as exact repeats. A unit cut
# at a line end of the wrapped file is not found. PARADUP_FLAGS adds flags
# (say --no-unwrap, for the figures of lines read as written).
set -eu
P=${PARADUP:-./paradup}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
[ $# -gt 0 ] || set -- /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0 \
    /usr/share/common-licenses/MPL-2.0 /usr/share/common-licenses/Artistic \
    /usr/share/common-licenses/LGPL-2.1 /usr/share/common-licenses/GFDL-1.3

# found UNIT: "units found" for the copy's units of kind UNIT
found() {
    # rows: cluster,doc,...: a unit of the copy is found when its cluster
    # holds a row of the wrapped file
    "$P" scan -q -u "$1" -t 1 ${PARADUP_FLAGS:-} "$T/unwrapped.txt" "$T/wrapped.txt" \
        -o "$T/rows.csv"
    total=$("$P" scan -u "$1" -t 1 ${PARADUP_FLAGS:-} "$T/unwrapped.txt" -o /dev/null 2>&1 |
        sed -n 's/^paradup: [0-9]* documents, \([0-9]*\) units.*/\1/p')
    n=$(awk -F'","' 'NR > 1 {
            c = substr($1, 2); d = $2; u = $3
            if (d ~ /wrapped.txt$/ && d !~ /unwrapped/) w[c] = 1; else mine[c "," u] = c
        } END { n = 0; for (k in mine) if (mine[k] in w) n++; print n }' "$T/rows.csv")
    echo "$total $n"
}

printf '%-34s %9s %6s %10s %6s\n' file sentences found paragraphs found
for f in "$@"; do
    [ -r "$f" ] || { echo "wrapped.sh: cannot read $f" >&2; continue; }
    awk 'BEGIN { RS = "" } { gsub(/[ \t\r]*\n[ \t\r]*/, " "); sub(/^[ \t]+/, ""); print }' "$f" \
        >"$T/unwrapped.txt"
    cp "$f" "$T/wrapped.txt"
    s=$(found sentence)
    l=$(found line)
    echo "${f##*/} $s $l" | awk '{
        printf "%-34s %9d %5.0f%% %10d %5.0f%%\n", $1, $2, $2 ? 100 * $3 / $2 : 0, $4,
            $4 ? 100 * $5 / $4 : 0 }'
done

#!/bin/sh
# make limits: the large-input cases that take minutes and gigabytes of disk,
# so they are not part of make test: a document of 5 million lines, a
# 4.5 GiB file whose last unit starts beyond 2^32 bytes, a line of 2 GiB and
# a line of 1 GiB of sentences.
# Each prints "ok" or "FAIL" with what differed. (More than 2^32 units cannot be generated in
# reasonable time; tests/unit/test_limits.c reaches that limit with the
# library built at lowered limits.) Scratch files go to $TMPDIR (/tmp).
set -u
P=${PARADUP:-./paradup}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() { # name, got, want
    if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: got '$2', want '$3'"; fail=1; fi
}
under_kb() { # time file ("SECS s, KB KB"), limit: "yes" when the peak is under it
    [ "$(cut -d' ' -f3 "$1")" -lt "$2" ] && echo yes || echo "no ($(cut -d' ' -f3 "$1") KB)"
}

# 5,000,000 distinct lines between two copies of one line.
awk 'BEGIN { print "the first and the last line of a long document";
    for (i = 0; i < 5000000; i++) print "line", i, "of a long document";
    print "the first and the last line of a long document" }' >"$T/lines.txt"
/usr/bin/time -f "%e s, %M KB" -o "$T/time" $P scan -q -t 1 "$T/lines.txt" >"$T/out.csv"
check "5,000,002-line document: exit status" $? 0
check "5,000,002-line document: repeat found at its line" \
    "$(sed -n 3p "$T/out.csv" | cut -d, -f3-5)" '"5000002","5000002","5000002"'
echo "     ($(cat "$T/time"))"
rm -f "$T/lines.txt"

# A line, 4.5 GiB of spaces, the same line: offsets past 2^32. The run of
# spaces is cut into chunks, so peak RSS stays far below its size.
{ echo "a line before and after four and a half gigabytes of spaces"
  head -c 4831838208 /dev/zero | tr '\0' ' '
  echo; echo "a line before and after four and a half gigabytes of spaces"; } >"$T/big.txt"
size=$(stat -c %s "$T/big.txt")
/usr/bin/time -f "%e s, %M KB" -o "$T/time" $P scan -q -t 1 "$T/big.txt" >"$T/out.csv"
check "4.5 GiB file: exit status" $? 0
check "4.5 GiB file: second copy at its byte offset" "$(sed -n 3p "$T/out.csv" | cut -d, -f5-7)" \
    "\"3\",\"$((size - 60))\",\"$((size - 1))\""
check "4.5 GiB file: peak RSS under 256 MB" "$(under_kb "$T/time" 262144)" yes
echo "     ($(cat "$T/time"))"
# The same as paragraphs (the run is a blank line between them) and as
# sentences: the run is cut into chunks as well.
for unit in paragraph sentence; do
    /usr/bin/time -f "%e s, %M KB" -o "$T/time" $P scan -q -t 1 -u $unit "$T/big.txt" >"$T/out.csv"
    check "4.5 GiB file as ${unit}s: second copy at its byte offset" \
        "$(sed -n 3p "$T/out.csv" | cut -d, -f5-7)" "\"3\",\"$((size - 60))\",\"$((size - 1))\""
    check "4.5 GiB file as ${unit}s: peak RSS under 256 MB" "$(under_kb "$T/time" 262144)" yes
    echo "     ($(cat "$T/time"))"
done
# With units held whole (--max-unit-bytes 0) the run, which holds no unit's
# text, is cut into chunks too, as lines and as paragraphs.
for unit in line paragraph; do
    /usr/bin/time -f "%e s, %M KB" -o "$T/time" $P scan -q -t 1 -u $unit --max-unit-bytes 0 \
        "$T/big.txt" >"$T/out.csv"
    check "4.5 GiB file as ${unit}s held whole: second copy at its byte offset" \
        "$(sed -n 3p "$T/out.csv" | cut -d, -f5-7)" "\"3\",\"$((size - 60))\",\"$((size - 1))\""
    check "4.5 GiB file as ${unit}s held whole: peak RSS under 256 MB" \
        "$(under_kb "$T/time" 262144)" yes
    echo "     ($(cat "$T/time"))"
done
# One line of 2 GiB of words, then the same short line twice: the long line is
# read in chunks cut at its pieces (peak RSS stays far below its size).
{ yes "words of one very long line" | head -c 2147483648 | tr '\n' ' '
  echo; echo "a short line after a long one"; echo "a short line after a long one"; } >"$T/long.txt"
/usr/bin/time -f "%e s, %M KB" -o "$T/time" $P scan -q -t 1 "$T/long.txt" >"$T/out.csv"
check "2 GiB line: exit status" $? 0
check "2 GiB line: the short repeat after it" "$(tail -n 1 "$T/out.csv" | cut -d, -f4)" '"3"'
check "2 GiB line: peak RSS under 256 MB" "$(under_kb "$T/time" 262144)" yes
echo "     ($(cat "$T/time"))"
rm -f "$T/long.txt"
# One line of 600,000 distinct sentences (1.1 GB), then the same short line
# twice, as sentences: the line is cut into chunks where sentences start.
{ awk 'BEGIN { for (i = 0; i < 300; i++) w = w "words ";
      for (i = 0; i < 600000; i++) printf "Sentence %d has %sand ends here. ", i, w }'
  echo; echo "A short line after a long one."; echo "A short line after a long one."; } >"$T/sent.txt"
/usr/bin/time -f "%e s, %M KB" -o "$T/time" $P scan -q -t 1 -u sentence "$T/sent.txt" >"$T/out.csv"
check "1.1 GB line of sentences: exit status" $? 0
check "1.1 GB line of sentences: the short repeat after it" \
    "$(tail -n 1 "$T/out.csv" | cut -d, -f3-4)" '"600002","3"'
echo "     ($(cat "$T/time"))"
exit $fail

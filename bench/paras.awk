# bench/paras.awk: n paragraphs of 150 words drawn from 20,000 made-up words,
# a blank line after each, then each paragraph again with one word changed:
# every paragraph has a near copy (awk -v n=N -f bench/paras.awk).
BEGIN {
    srand(7)
    split("ka to ri men sa lo vi dar nu pe gor li ta bo che quin", syl, " ")
    for (v = 1; v <= 20000; v++) {
        s = ""; k = 1 + int(rand() * 3)
        for (j = 0; j < k; j++) s = s syl[1 + int(rand() * 16)]
        voc[v] = s
    }
    for (i = 0; i < n; i++) {
        p = voc[1 + int(rand() * 20000)]
        for (j = 1; j < 150; j++) p = p " " voc[1 + int(rand() * 20000)]
        para[i] = p
        print p; print ""
    }
    for (i = 0; i < n; i++) {
        m = split(para[i], w, " "); w[1 + int(rand() * m)] = voc[1 + int(rand() * 20000)]
        p = w[1]; for (j = 2; j <= m; j++) p = p " " w[j]
        print p; print ""
    }
}

/* fuzz_csvread.c - the CSV reader's fast path for plain rows against libcsv
 * alone: the first byte picks the delimiter, the rest is the file; both
 * readers must give the same documents, record lines and messages. */
#include "fuzz.h"
#include "../unit/csvread.h"

#include <unistd.h>

/* An empty file to stand for file 0, made on the first input and removed
 * at exit. */
static char dummy[] = "/tmp/paradup-fuzz-csvread-XXXXXX";

static void remove_dummy(void)
{
    unlink(dummy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool made;
    if (!made) {
        int fd = mkstemp(dummy);
        FUZZ_CHECK(fd >= 0);
        close(fd);
        atexit(remove_dummy);
        made = true;
    }
    if (size < 1)
        return 0;
    static const char delims[] = {',', '\t', ';', ' ', '|', '"'};
    char delim = delims[data[0] % sizeof delims];
    pd_buf csv = {(char *)data + 1, size - 1, size - 1}, docs[4];
    for (int i = 0; i < 4; i++)
        pd_buf_init(&docs[i]);
    read_csv(&csv, delim, true, dummy, &docs[0], &docs[1]);
    read_csv(&csv, delim, false, dummy, &docs[2], &docs[3]);
    FUZZ_CHECK(broken == 0);
    FUZZ_CHECK(same(&docs[0], &docs[2]));
    FUZZ_CHECK(same(&docs[1], &docs[3]));
    for (int i = 0; i < 4; i++)
        pd_buf_release(&docs[i]);
    return 0;
}

/*
 * cli.c - the paradup command: option parsing, diagnostics, the progress
 * line, the summary and exit codes. Uses only the public API (paradup.h).
 *
 * Exit codes: 0 success, 1 an input or output error (the run goes on past an
 * unreadable input unless --strict, and still writes its report), 2 bad usage,
 * 128 + N when signal N (INT, TERM, HUP) stops the run.
 * The report is written to a temporary file beside --output, synced and
 * renamed into place, so a failed run never leaves a half-written CSV.
 */
#define _GNU_SOURCE
#include "paradup.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAX_GLOBS = 64 };

typedef struct cli {
    pd_options o;
    pd_input_options in;
    const char *include[MAX_GLOBS], *exclude[MAX_GLOBS];
    const char *files_from;
    const char *output;
    bool quiet, pairs, csv_safe, verbose;
    unsigned errors; /* inputs that could not be read */
    uint64_t malformed_shown; /* malformed-record messages printed */
    bool progress_shown;
    double start, last_progress;
    int out_fd; /* the temporary output file's, or -1 */
} cli;

/* The temporary output file, removed if a signal stops the run. The only
 * global: signal handlers can reach nothing else. */
static char tmp_output[PATH_MAX + 16];

static void on_signal(int sig)
{
    if (tmp_output[0])
        unlink(tmp_output);
    _exit(128 + sig);
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static const char usage_text[] =
    "Usage: paradup scan [OPTIONS] PATH...\n"
    "Find repeated and near-duplicate lines, paragraphs or sentences in text files\n"
    "and write them as CSV. A directory is read recursively; '-' is standard input.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE     write the CSV to FILE (default: standard output)\n"
    "  -u, --unit KIND       line (default), paragraph or sentence\n"
    "      --no-unwrap       read the lines of hard-wrapped text as written, not\n"
    "                        joined where a line runs on into the next\n"
    "  -t, --threshold T     Jaccard similarity for near-duplicates, 0 < T <= 1\n"
    "                        (default 0.8; 1 finds exact repeats only)\n"
    "  -k, --shingle K       words per shingle (default 3; 2 for sentences)\n"
    "      --perms N         MinHash permutations (default 128)\n"
    "      --bands B         LSH bands (with --rows; default: chosen from T)\n"
    "      --rows R          LSH rows per band\n"
    "      --no-verify       trust MinHash estimates; skip exact Jaccard checks\n"
    "      --pairs           write pairs instead of clusters\n"
    "      --csv-safe        prefix text cells that start with = + - @ tab or CR with '\n"
    "                        so that spreadsheets do not run them as formulas\n"
    "      --max-unit-bytes N  split longer units into pieces of at most N bytes\n"
    "                        (default 1M; K, M, G suffixes; 0: none below 4G)\n"
    "      --verify-memory N  bytes of candidates' profiles held in memory; more go\n"
    "                        to a temporary file (default: 48 a unit, 4M at least)\n"
    "      --normalize LIST  steps to apply, comma-separated, from nfkc, casefold,\n"
    "                        accents, dots, entities, hyphens, markup; or all (default)\n"
    "                        or none\n"
    "      --seed N          MinHash seed (default 5782206221598675249)\n"
    "      --strict          stop at the first unreadable input or malformed record\n"
    "\n"
    "Input (gzip and zstd files are decompressed, whatever their name):\n"
    "      --format FMT      text, jsonl or csv (default: by name: .jsonl .ndjson\n"
    "                        .json are JSONL, .csv .tsv are CSV, others text)\n"
    "      --text-field F    JSONL field with the text (default text; a.b is nested)\n"
    "      --id-field F      JSONL field with the document id (default id)\n"
    "      --text-column C   CSV column with the text: header name or 1-based index\n"
    "                        (default text)\n"
    "      --id-column C     CSV column with the document id (default id)\n"
    "      --delimiter C     CSV field delimiter (default ',', tab for .tsv)\n"
    "      --include GLOB    in directories, read only files matching GLOB\n"
    "      --exclude GLOB    in directories, skip files and directories matching GLOB\n"
    "      --files-from FILE read more paths from FILE, one per line ('-': stdin)\n"
    "\n"
    "Run:\n"
    "  -j, --threads N       worker threads, also for parsing JSONL (default: every CPU\n"
    "                        paradup may run on)\n"
    "  -q, --quiet           no summary, progress or warnings\n"
    "  -v, --verbose         also print the time each stage took\n"
    "      --help            show this help and exit\n"
    "      --version         show the version and exit\n"
    "\n"
    "Cluster CSV columns: cluster,doc,unit,line_start,line_end,byte_start,byte_end,\n"
    "role,match,similarity,scope,text,source. Exit status: 0 ok, 1 input or output\n"
    "error, 2 bad usage.\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void clear_progress(cli *c)
{
    if (c->progress_shown) {
        fputs("\r\033[K", stderr);
        c->progress_shown = false;
    }
}

static void msg(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg(cli *c, const char *fmt, ...)
{
    clear_progress(c);
    va_list ap;
    va_start(ap, fmt);
    fputs("paradup: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void print_diag(cli *c, const char *doc, uint64_t line, const char *text)
{
    if (line)
        msg(c, "%s:%llu: %s", doc, (unsigned long long)line, text);
    else
        msg(c, "%s: %s", doc, text);
}

/* Input errors and malformed records are shown even with --quiet: each is
 * data left out of the report. Whether the run fails is decided by what
 * pd_files_add() and the scan return, not by the count of messages. */
static void on_input_error(void *ctx, const char *doc, uint64_t line, const char *text)
{
    print_diag(ctx, doc, line, text);
}

static void on_warning(void *ctx, const char *doc, uint64_t line, const char *text)
{
    cli *c = ctx;
    if (!c->quiet)
        print_diag(c, doc, line, text);
}

static int on_progress(void *ctx, uint64_t bytes, uint64_t docs)
{
    cli *c = ctx;
    double t = now();
    if (t - c->start < 1.0 || t - c->last_progress < 0.25)
        return 0;
    c->last_progress = t;
    double mb = (double)bytes / 1e6;
    fprintf(stderr, "\rparadup: %llu documents, %.0f MB, %.0f MB/s\033[K", (unsigned long long)docs,
            mb, mb / (t - c->start));
    c->progress_shown = true;
    return 0;
}

static void on_decode(void *ctx, uint64_t bytes)
{
    cli *c = ctx;
    double t = now();
    if (t - c->start < 1.0 || t - c->last_progress < 0.25)
        return;
    c->last_progress = t;
    fprintf(stderr, "\rparadup: reading inputs, %.0f MB\033[K", (double)bytes / 1e6);
    c->progress_shown = true;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("paradup: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'paradup --help'.\n", stderr);
    va_end(ap);
    return 2;
}

static bool parse_uint(const char *s, unsigned long max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        return false;
    *out = (unsigned)v;
    return true;
}

/* A byte count with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    int shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
    end += shift != 0;
    if (errno || end == s || *end || s[0] == '-' || v > (SIZE_MAX >> shift))
        return false;
    *out = (size_t)(v << shift);
    return true;
}

static bool parse_norm(const char *s, unsigned *flags)
{
    static const struct {
        const char *name;
        unsigned flag;
    } steps[] = {{"nfkc", PD_NORM_NFKC}, {"casefold", PD_NORM_CASEFOLD},
                 {"accents", PD_NORM_ACCENTS}, {"dots", PD_NORM_DOTS},
                 {"entities", PD_NORM_ENTITIES}, {"hyphens", PD_NORM_HYPHENS},
                 {"markup", PD_NORM_MARKUP},
                 {"all", PD_NORM_DEFAULT}, {"none", 0}};
    *flags = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        size_t i = 0;
        while (i < sizeof steps / sizeof *steps &&
               !(strlen(steps[i].name) == n && strncmp(steps[i].name, s, n) == 0))
            i++;
        if (i == sizeof steps / sizeof *steps)
            return false;
        *flags |= steps[i].flag;
        s += n + (s[n] == ',');
    }
    return true;
}

enum {
    OPT_PERMS = 256, OPT_BANDS, OPT_ROWS, OPT_NO_VERIFY, OPT_PAIRS, OPT_NORMALIZE, OPT_SEED,
    OPT_STRICT, OPT_HELP, OPT_VERSION, OPT_FORMAT, OPT_TEXT_FIELD, OPT_ID_FIELD, OPT_TEXT_COLUMN,
    OPT_ID_COLUMN, OPT_DELIMITER, OPT_INCLUDE, OPT_EXCLUDE, OPT_FILES_FROM, OPT_MAX_UNIT,
    OPT_VERIFY_MEMORY,
    OPT_CSV_SAFE, OPT_NO_UNWRAP
};

static const struct option long_options[] = {
    {"output", required_argument, NULL, 'o'},     {"unit", required_argument, NULL, 'u'},
    {"threshold", required_argument, NULL, 't'},  {"shingle", required_argument, NULL, 'k'},
    {"perms", required_argument, NULL, OPT_PERMS}, {"bands", required_argument, NULL, OPT_BANDS},
    {"rows", required_argument, NULL, OPT_ROWS},   {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
    {"pairs", no_argument, NULL, OPT_PAIRS},       {"no-unwrap", no_argument, NULL, OPT_NO_UNWRAP},
    {"normalize", required_argument, NULL, OPT_NORMALIZE},
    {"seed", required_argument, NULL, OPT_SEED},   {"strict", no_argument, NULL, OPT_STRICT},
    {"threads", required_argument, NULL, 'j'},     {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, OPT_HELP},         {"version", no_argument, NULL, OPT_VERSION},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"text-field", required_argument, NULL, OPT_TEXT_FIELD},
    {"id-field", required_argument, NULL, OPT_ID_FIELD},
    {"text-column", required_argument, NULL, OPT_TEXT_COLUMN},
    {"id-column", required_argument, NULL, OPT_ID_COLUMN},
    {"delimiter", required_argument, NULL, OPT_DELIMITER},
    {"include", required_argument, NULL, OPT_INCLUDE},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"files-from", required_argument, NULL, OPT_FILES_FROM},
    {"max-unit-bytes", required_argument, NULL, OPT_MAX_UNIT},
    {"verify-memory", required_argument, NULL, OPT_VERIFY_MEMORY},
    {"csv-safe", no_argument, NULL, OPT_CSV_SAFE},
    {NULL, 0, NULL, 0}};

/* The input options, which take only strings; 0 or an exit code. */
static int parse_input_arg(cli *c, int ch, const char *arg)
{
    pd_input_options *in = &c->in;
    switch (ch) {
    case OPT_FORMAT:
        if (strcmp(arg, "text") == 0) in->format = PD_FORMAT_TEXT;
        else if (strcmp(arg, "jsonl") == 0) in->format = PD_FORMAT_JSONL;
        else if (strcmp(arg, "csv") == 0) in->format = PD_FORMAT_CSV;
        else return usage_error("unknown format '%s' (text, jsonl or csv)", arg);
        break;
    case OPT_TEXT_FIELD: in->text_field = arg; break;
    case OPT_ID_FIELD: in->id_field = arg; break;
    case OPT_TEXT_COLUMN: in->text_column = arg; break;
    case OPT_ID_COLUMN: in->id_column = arg; break;
    case OPT_DELIMITER:
        if (strcmp(arg, "\\t") == 0 || strcmp(arg, "tab") == 0)
            in->delimiter = '\t';
        else if (strlen(arg) == 1 && arg[0] != '"' && arg[0] != '\n' && arg[0] != '\r')
            in->delimiter = arg[0];
        else
            return usage_error("delimiter must be one character (or 'tab'), not '%s'", arg);
        break;
    case OPT_INCLUDE:
    case OPT_EXCLUDE: {
        size_t *n = ch == OPT_INCLUDE ? &in->n_include : &in->n_exclude;
        if (*n == MAX_GLOBS)
            return usage_error("more than %d --include or --exclude patterns", MAX_GLOBS);
        (ch == OPT_INCLUDE ? c->include : c->exclude)[(*n)++] = arg;
        break;
    }
    case OPT_FILES_FROM: c->files_from = arg; break;
    }
    return 0;
}

/* Parse the options; returns -1 to go on, else an exit code. */
static int parse_args(cli *c, int argc, char **argv)
{
    int ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":o:u:t:k:j:qv", long_options, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'o': c->output = optarg; break;
        case 'u':
            if (strcmp(optarg, "line") == 0) c->o.unit = PD_UNIT_LINE;
            else if (strcmp(optarg, "paragraph") == 0) c->o.unit = PD_UNIT_PARAGRAPH;
            else if (strcmp(optarg, "sentence") == 0) c->o.unit = PD_UNIT_SENTENCE;
            else return usage_error("unknown unit '%s' (line, paragraph or sentence)", optarg);
            break;
        case 't':
            errno = 0;
            c->o.threshold = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(c->o.threshold > 0 && c->o.threshold <= 1))
                return usage_error("threshold must be a number in (0, 1], not '%s'", optarg);
            break;
        case 'k':
            if (!parse_uint(optarg, 64, &c->o.shingle) || c->o.shingle == 0)
                return usage_error("shingle size must be 1..64, not '%s'", optarg);
            break;
        case 'j':
            if (!parse_uint(optarg, 256, &c->o.threads) || c->o.threads == 0)
                return usage_error("threads must be 1..256, not '%s'", optarg);
            break;
        case 'q': c->quiet = true; break;
        case 'v': c->verbose = true; break;
        case OPT_PERMS:
            if (!parse_uint(optarg, 1024, &c->o.perms) || c->o.perms == 0)
                return usage_error("permutations must be 1..1024, not '%s'", optarg);
            break;
        case OPT_BANDS:
            if (!parse_uint(optarg, 1024, &c->o.bands) || c->o.bands == 0)
                return usage_error("bands must be 1..1024, not '%s'", optarg);
            break;
        case OPT_ROWS:
            if (!parse_uint(optarg, 1024, &c->o.rows) || c->o.rows == 0)
                return usage_error("rows must be 1..1024, not '%s'", optarg);
            break;
        case OPT_NO_VERIFY: c->o.verify = 0; break;
        case OPT_PAIRS: c->pairs = true; break;
        case OPT_NORMALIZE:
            if (!parse_norm(optarg, &c->o.norm))
                return usage_error("unknown normalization in '%s'", optarg);
            break;
        case OPT_SEED:
            errno = 0;
            c->o.seed = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end)
                return usage_error("seed must be an unsigned number, not '%s'", optarg);
            break;
        case OPT_STRICT: c->o.strict = c->in.strict = 1; break;
        case OPT_NO_UNWRAP: c->o.unwrap = 0; break;
        case OPT_MAX_UNIT:
            if (!parse_size(optarg, &c->o.max_unit_bytes) ||
                (c->o.max_unit_bytes && c->o.max_unit_bytes < 64))
                return usage_error("unit size limit must be 0 or at least 64 bytes, not '%s'",
                                   optarg);
            break;
        case OPT_VERIFY_MEMORY:
            if (!parse_size(optarg, &c->o.verify_memory))
                return usage_error("verification memory must be a size such as 64M, not '%s'",
                                   optarg);
            break;
        case OPT_CSV_SAFE: c->csv_safe = true; break;
        case OPT_FORMAT: case OPT_TEXT_FIELD: case OPT_ID_FIELD: case OPT_TEXT_COLUMN:
        case OPT_ID_COLUMN: case OPT_DELIMITER: case OPT_INCLUDE: case OPT_EXCLUDE:
        case OPT_FILES_FROM:
            if (parse_input_arg(c, ch, optarg) != 0)
                return 2;
            break;
        case OPT_HELP: fputs(usage_text, stdout); return 0;
        case OPT_VERSION: printf("paradup %s\n", pd_version()); return 0;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    const char *why;
    if (pd_options_check(&c->o, &why) != PD_OK)
        return usage_error("%s", why);
    return -1;
}

/* The temporary output file is written through a stream that starts the
 * disk's writeback of every WRITEBACK_STEP bytes written, so the fsync()
 * before the rename waits for the last few MB, not the whole report (100 MB
 * exact: a 91 MB report took fsync() 74 ms). */
enum { WRITEBACK_STEP = 8 << 20 };

typedef struct outfile {
    int fd;
    off_t written, started; /* bytes written, and those sent to the disk */
} outfile;

static ssize_t outfile_write(void *cookie, const char *buf, size_t n)
{
    outfile *o = cookie;
    for (size_t done = 0; done < n;) {
        ssize_t w = write(o->fd, buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0; /* stdio's error, with errno as write() left it */
        done += (size_t)w;
    }
    o->written += (off_t)n;
    if (o->written - o->started >= WRITEBACK_STEP) {
        sync_file_range(o->fd, o->started, o->written - o->started, SYNC_FILE_RANGE_WRITE);
        o->started = o->written;
    }
    return (ssize_t)n;
}

static int outfile_close(void *cookie)
{
    outfile *o = cookie;
    int r = close(o->fd);
    free(o);
    return r;
}

static FILE *outfile_open(int fd)
{
    outfile *o = malloc(sizeof *o);
    if (!o)
        return NULL;
    *o = (outfile){fd, 0, 0};
    cookie_io_functions_t io = {NULL, outfile_write, NULL, outfile_close};
    FILE *f = fopencookie(o, "w", io);
    if (!f)
        free(o);
    return f;
}

/* Open the output: a temporary file beside the target, or standard output. */
static FILE *open_output(cli *c, char *tmp, size_t cap)
{
    tmp[0] = 0;
    if (!c->output || strcmp(c->output, "-") == 0)
        return stdout;
    struct stat sb;
    if (stat(c->output, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        /* A device or a pipe (/dev/null, a FIFO) is written in place. */
        FILE *f = fopen(c->output, "w");
        if (!f)
            msg(c, "cannot open '%s': %s", c->output, strerror(errno));
        return f;
    }
    if ((size_t)snprintf(tmp, cap, "%s.XXXXXX", c->output) >= cap) {
        msg(c, "output path too long: '%s'", c->output);
        return NULL;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        msg(c, "cannot create '%s': %s", c->output, strerror(errno));
        return NULL;
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    FILE *f = outfile_open(fd);
    if (!f) {
        msg(c, "cannot open '%s': %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
    }
    c->out_fd = f ? fd : -1;
    return f;
}

/* Flush and move the report into place; false after reporting a failure. */
static bool close_output(cli *c, FILE *f, const char *tmp, bool ok)
{
    if (f == stdout || !tmp[0]) {
        const char *name = f == stdout ? "standard output" : c->output;
        if (fflush(f) != 0 || ferror(f)) {
            if (ok)
                msg(c, "cannot write to '%s': %s", name, strerror(errno));
            ok = false;
        }
        if (f != stdout && fclose(f) != 0 && ok) {
            msg(c, "cannot write to '%s': %s", name, strerror(errno));
            ok = false;
        }
        return ok;
    }
    if (ok && (fflush(f) != 0 || fsync(c->out_fd) != 0)) {
        msg(c, "cannot write '%s': %s", c->output, strerror(errno));
        ok = false;
    }
    if (fclose(f) != 0 && ok) {
        msg(c, "cannot write '%s': %s", c->output, strerror(errno));
        ok = false;
    }
    if (ok && rename(tmp, c->output) != 0) {
        msg(c, "cannot rename '%s' to '%s': %s", tmp, c->output, strerror(errno));
        ok = false;
    }
    if (!ok)
        unlink(tmp);
    tmp_output[0] = 0;
    return ok;
}

/* Is the output file one of the inputs? Renaming the report over it would
 * destroy the input, so such a run is refused before any work. */
static bool output_is_input(cli *c, const pd_source *src)
{
    struct stat out, in;
    if (!c->output || stat(c->output, &out) != 0 || !S_ISREG(out.st_mode))
        return false;
    const char *prev = NULL, *name;
    uint64_t line;
    for (uint32_t d = 0; d < src->n_docs; d++, prev = name) {
        src->origin(src->ctx, d, &name, &line);
        if (name == prev) /* the records of one file share its name */
            continue;
        if (strcmp(name, "-") != 0 && stat(name, &in) == 0 && in.st_dev == out.st_dev &&
            in.st_ino == out.st_ino) {
            msg(c, "output '%s' is also an input: choose another output file", c->output);
            return true;
        }
    }
    return false;
}

static void summary(cli *c, const pd_stats *s, const pd_input_stats *in, double secs)
{
    if (c->quiet)
        return;
    clear_progress(c);
    double mb = (double)s->bytes / 1e6;
    char skipped[64] = "";
    if (in->malformed)
        snprintf(skipped, sizeof skipped, "%llu malformed records skipped, ",
                 (unsigned long long)in->malformed);
    fprintf(stderr,
            "paradup: %llu documents, %llu units, %llu clusters, %llu duplicate units, "
            "%s%.2f s, %.1f MB/s\n",
            (unsigned long long)s->docs, (unsigned long long)s->units,
            (unsigned long long)s->clusters, (unsigned long long)s->duplicates, skipped, secs,
            secs > 0 ? mb / secs : 0.0);
    if (c->verbose)
        fprintf(stderr,
                "paradup: stages: read and sign %.3f s (%llu signatures), candidates %.3f s "
                "(%llu pairs), verify %.3f s (%llu pairs kept; profiles %.1f MB, %.1f MB of them "
                "on file), cluster %.3f s, report %.3f s\n",
                s->secs_read, (unsigned long long)s->signatures, s->secs_candidates,
                (unsigned long long)s->candidates, s->secs_verify, (unsigned long long)s->verified,
                s->profile_bytes / 1e6, s->profile_bytes_on_file / 1e6, s->secs_cluster,
                s->secs_report);
}

/* Add input paths; false to stop the run (out of memory, or --strict). */
static bool add_inputs(cli *c, pd_files *fs, const char *const *paths, size_t n)
{
    pd_status st = pd_files_add_paths(fs, paths, n);
    if (st == PD_ENOMEM)
        msg(c, "out of memory while reading the inputs");
    if (st != PD_OK)
        c->errors += st != PD_EPARSE;
    return st == PD_OK || (st != PD_ENOMEM && !c->o.strict);
}

/* Add the paths listed in c->files_from, one per line, LISTED_BATCH at a
 * time. */
enum { LISTED_BATCH = 1 << 16 };

static bool add_batch(cli *c, pd_files *fs, char **batch, size_t *n)
{
    bool go = add_inputs(c, fs, (const char *const *)batch, *n);
    for (size_t i = 0; i < *n; i++)
        free(batch[i]);
    *n = 0;
    return go;
}

static bool add_listed(cli *c, pd_files *fs)
{
    bool is_stdin = strcmp(c->files_from, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(c->files_from, "r");
    char **batch = malloc(LISTED_BATCH * sizeof *batch);
    if (!f || !batch) {
        if (f)
            msg(c, "out of memory");
        else
            msg(c, "%s: cannot open: %s", c->files_from, strerror(errno));
        if (f && !is_stdin)
            fclose(f);
        free(batch);
        c->errors++;
        return !f && !c->o.strict;
    }
    char *line = NULL;
    size_t cap = 0, n_batch = 0;
    ssize_t n;
    bool go = true;
    while (go && (n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n > 0 && !(batch[n_batch++] = strdup(line))) {
            n_batch--;
            msg(c, "out of memory");
            c->errors++;
            go = false;
        }
        if (go && n_batch == LISTED_BATCH)
            go = add_batch(c, fs, batch, &n_batch);
    }
    if (go && ferror(f)) {
        msg(c, "%s: cannot read: %s", c->files_from, strerror(errno));
        c->errors++;
        go = !c->o.strict;
    }
    if (go && n_batch > 0)
        go = add_batch(c, fs, batch, &n_batch);
    for (size_t i = 0; i < n_batch; i++)
        free(batch[i]);
    free(batch);
    free(line);
    if (!is_stdin)
        fclose(f);
    return go;
}

static int scan(cli *c, int argc, char **argv)
{
    pd_files *fs = NULL;
    pd_scan *sc = NULL;
    FILE *out = NULL;
    char *tmp = tmp_output;
    int rc = 1;
    catch_signals();
    c->in.include = c->include;
    c->in.exclude = c->exclude;
    c->in.threads = c->o.threads;
    if (isatty(STDERR_FILENO) && !c->quiet) {
        c->in.progress = on_decode;
        c->in.progress_ctx = c;
    }
    if (pd_files_new(&c->in, on_input_error, c, &fs) != PD_OK) {
        msg(c, "out of memory");
        return 1;
    }
    const char *const *paths = (const char *const *)argv + optind;
    if (optind < argc && !add_inputs(c, fs, paths, (size_t)(argc - optind)))
        goto done;
    if (c->files_from && !add_listed(c, fs))
        goto done;
    pd_source src = pd_files_source(fs);
    if (output_is_input(c, &src))
        goto done;

    if ((out = open_output(c, tmp, sizeof tmp_output)) == NULL)
        goto done;
    c->o.diag = on_warning;
    c->o.diag_ctx = c;
    if (isatty(STDERR_FILENO) && !c->quiet) {
        c->o.progress = on_progress;
        c->o.progress_ctx = c;
    }
    pd_status st = pd_scan_new(&c->o, &sc);
    if (st == PD_OK)
        st = pd_scan_run(sc, &src);
    if (st != PD_OK) {
        msg(c, "%s", sc ? pd_scan_errmsg(sc) : pd_strerror(st));
    } else {
        int mode = (c->pairs ? PD_CSV_PAIRS : PD_CSV_CLUSTERS) | (c->csv_safe ? PD_CSV_SAFE : 0);
        st = pd_scan_write_csv(sc, &src, mode, out);
        if (st != PD_OK)
            msg(c, "%s: %s", c->output ? c->output : "standard output", pd_scan_errmsg(sc));
    }
    bool ok = close_output(c, out, tmp, st == PD_OK);
    out = NULL;
    if (ok)
        summary(c, pd_scan_stats(sc), pd_files_stats(fs), now() - c->start);
    rc = ok && c->errors == 0 && pd_scan_stats(sc)->docs_failed == 0 ? 0 : 1;
done:
    if (out)
        close_output(c, out, tmp, false);
    pd_scan_free(sc);
    pd_files_free(fs);
    return rc;
}

/* The input keeps its files open for the reads after the first pass: allow
 * as many open files as the system lets us, and keep all but a few of them
 * (the output, the spool, the standard streams need some). */
static size_t raise_open_files(void)
{
    enum { SPARE = 64 };
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0; /* the library's default */
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t soft = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = soft;
    }
    return rl.rlim_cur > SPARE ? (size_t)(rl.rlim_cur - SPARE) : 1;
}

int main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    c.out_fd = -1;
    /* Blocks of 1 MB and more get their own mappings: freed, they go back to
     * the system at once, and grown, they move without a copy. Otherwise
     * glibc raises this threshold as big blocks are freed, and the next
     * stage's arrays come from a heap that keeps what was freed: the 100 MB
     * bench peaked at 86 MB instead of 69 MB. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    pd_options_init(&c.o);
    pd_input_options_init(&c.in);
    c.in.keep_open = raise_open_files();
    c.start = now();
    if (argc >= 2 && strcmp(argv[1], "scan") == 0) {
        argv[1] = argv[0];
        argc--;
        argv++;
        int rc = parse_args(&c, argc, argv);
        if (rc >= 0)
            return rc;
        if (optind >= argc && !c.files_from)
            return usage_error("no input: give files, directories or '-'");
        for (int i = optind; c.files_from && strcmp(c.files_from, "-") == 0 && i < argc; i++)
            if (strcmp(argv[i], "-") == 0)
                return usage_error("standard input cannot be both --files-from and an input");
        return scan(&c, argc, argv);
    }
    int rc = parse_args(&c, argc, argv);
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return usage_error("unknown command '%s' (did you mean 'paradup scan %s'?)", argv[optind],
                           argv[optind]);
    return usage_error("missing command: paradup scan [OPTIONS] PATH...");
}

# paradup - find duplicate and near-duplicate paragraphs. `make help` lists targets.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wundef
CPPFLAGS += -Iinclude -D_POSIX_C_SOURCE=200809L
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -fPIC -pthread
DEP_LIBS := -lxxhash -lcsv -lutf8proc -ljansson -lzstd -lz
LIBS     := $(DEP_LIBS) -lm -pthread
# The paradup binary is linked statically, the C library too (Debian's -dev
# packages ship the archives): a run on a small input then spends no time in
# the dynamic loader. Sanitizer builds keep the C library dynamic, as their
# runtimes need; valgrind runs paradup-dynamic, whose malloc it can follow.
# STATIC_DEPS=0 links everything dynamically.
STATIC_DEPS ?= 1
ifeq ($(STATIC_DEPS)$(SAN),1)
BIN_LIBS := -static $(DEP_LIBS) -lm -pthread
else ifeq ($(STATIC_DEPS),1)
BIN_LIBS := -Wl,-Bstatic $(DEP_LIBS) -Wl,-Bdynamic -lm -pthread
else
BIN_LIBS := $(LIBS)
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

# A sanitizer build lives in a directory of its own: make SAN=address,undefined test
# builds in build/san-address-undefined.
comma   := ,
ifneq ($(SAN),)
BUILD   := build/san-$(subst $(comma),-,$(SAN))
ALL_CFLAGS += -fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g
LDSAN   := -fsanitize=$(SAN)
else
BUILD   := build
LDSAN   :=
endif

LIB_SRC := src/segment.c src/entities.c src/hyphens.c src/markup.c src/normalize.c src/shingle.c src/minhash.c src/keys.c src/lsh.c \
           src/exact.c src/unithash.c src/cut.c src/scan.c src/verify.c src/cluster.c src/csvout.c src/reread.c src/files.c \
           src/instream.c src/json.c src/records.c src/util.c
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/%.o)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
# Fuzz targets: tests/fuzz/fuzz_NAME.c, seeds in tests/fuzz/corpus/NAME/.
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay-%)
FUZZ_TIME ?= 60

# Debian packages the build needs; `make deps` installs the missing ones.
# (gzip and zstd make the compressed inputs of the CLI tests.)
DEB_PKGS := libxxhash-dev libcsv-dev libutf8proc-dev libjansson-dev libzstd-dev zlib1g-dev \
            pkg-config gzip zstd
DEPS_OK  := $(shell test -f /usr/include/xxhash.h -a -f /usr/include/csv.h \
                        -a -f /usr/include/utf8proc.h -a -f /usr/include/jansson.h \
                        -a -f /usr/include/zstd.h -a -f /usr/include/zlib.h && \
                    command -v zstd >/dev/null && command -v gzip >/dev/null && echo yes)
ifneq ($(DEPS_OK),yes)
NEED_DEPS := deps
endif

.PHONY: tsan limits fuzz valgrind all test asan bench demo install uninstall clean deps help unit cli

all: $(NEED_DEPS) paradup libparadup.a libparadup.so ## build the library and the paradup binary

paradup: $(BUILD)/paradup
	$(Q)cp $< $@

libparadup.a: $(BUILD)/libparadup.a
	$(Q)cp $< $@

libparadup.so: $(LIB_OBJ)
	@echo "  LD    $@"
	$(Q)$(CC) -shared -Wl,-soname,libparadup.so.0 $(LDSAN) -o $@ $^ $(LIBS)

$(BUILD)/libparadup.a: $(LIB_OBJ)
	@echo "  AR    $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/paradup: $(BUILD)/cli.o $(BUILD)/libparadup.a
	@echo "  LD    $@"
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(BIN_LIBS)

$(BUILD)/paradup-dynamic: $(BUILD)/cli.o $(BUILD)/libparadup.a
	@echo "  LD    $@"
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LIBS)

# The MinHash inner loop needs -O3 to vectorize.
$(BUILD)/minhash.o: ALL_CFLAGS += -O3

$(BUILD)/%.o: src/%.c include/paradup.h src/internal.h | $(BUILD)
	@echo "  CC    $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The limits test builds the library with its 32-bit limits lowered to reach them.
$(BUILD)/tests/test_limits: tests/unit/test_limits.c $(wildcard tests/unit/*.h) $(LIB_SRC) src/internal.h | $(BUILD)
	@mkdir -p $(BUILD)/tests
	@echo "  CC    $<"
	$(Q)$(CC) $(CPPFLAGS) -Isrc -DPD_MAX_UNITS=1000 -DPD_MAX_DOC_LINES=500 -DPD_MAX_UNIT_LEN=1000 $(ALL_CFLAGS) $(LDSAN) \
	    -o $@ $< $(LIB_SRC) $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libparadup.a | $(BUILD)
	@mkdir -p $(BUILD)/tests
	@echo "  CC    $<"
	$(Q)$(CC) $(CPPFLAGS) -Isrc $(ALL_CFLAGS) $(LDSAN) -o $@ $< $(BUILD)/libparadup.a $(LIBS)

$(BUILD)/fuzz/replay-%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(wildcard tests/fuzz/*.h) $(BUILD)/libparadup.a
	@mkdir -p $(BUILD)/fuzz
	@echo "  CC    $<"
	$(Q)$(CC) $(CPPFLAGS) -Isrc $(ALL_CFLAGS) $(LDSAN) -o $@ $< tests/fuzz/replay.c $(BUILD)/libparadup.a $(LIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libparadup.a | $(BUILD)
	@mkdir -p $(BUILD)/bench
	@echo "  CC    $<"
	$(Q)$(CC) $(CPPFLAGS) -Isrc $(ALL_CFLAGS) -O3 $(LDSAN) -o $@ $< $(BUILD)/libparadup.a $(LIBS)

$(BUILD):
	$(Q)mkdir -p $(BUILD)

unit: $(NEED_DEPS) $(UNIT_TESTS) $(FUZZ_REPLAY)
	$(Q)fail=0; for t in $(UNIT_TESTS); do $$t || fail=1; done; \
	for n in $(FUZZ_NAMES); do \
	    if $(BUILD)/fuzz/replay-$$n tests/fuzz/corpus/$$n; then r="1 0"; else r="0 1"; fail=1; fi; \
	    [ -z "$$PD_TEST_COUNTS" ] || echo "$$r" >>"$$PD_TEST_COUNTS"; \
	done; test $$fail = 0

fuzz: $(NEED_DEPS) ## run each fuzz target for FUZZ_TIME seconds (clang, libFuzzer); new inputs go to build/fuzz/
	$(Q)FUZZ_TIME=$(FUZZ_TIME) LIBS="$(LIBS)" sh tests/fuzz/run.sh $(FUZZ_NAMES)

cli: $(NEED_DEPS) $(BUILD)/paradup
	$(Q)PARADUP=$(BUILD)/paradup sh tests/cli/run.sh $(if $(UPDATE),--update)

# The bench programs are built too, so that a change to the library's
# internals cannot leave them broken until the next `make bench`.
test: $(NEED_DEPS) all $(BENCH_BIN) ## run the unit and CLI tests (UPDATE=1 rewrites the goldens)
	$(Q)rm -f $(BUILD)/test-counts
	$(Q)PD_TEST_COUNTS=$(BUILD)/test-counts $(MAKE) --no-print-directory -k unit cli; \
	    PD_TEST_COUNTS=$(BUILD)/test-counts sh tests/summary.sh

VALGRIND_CMD := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite

valgrind: $(NEED_DEPS) all $(FUZZ_REPLAY) $(BUILD)/paradup-dynamic ## run the CLI tests and fuzz replays under valgrind memcheck
	$(Q)for n in $(FUZZ_NAMES); do $(VALGRIND_CMD) $(BUILD)/fuzz/replay-$$n tests/fuzz/corpus/$$n || exit 1; done
	$(Q)VALGRIND="$(VALGRIND_CMD)" PARADUP=$(BUILD)/paradup-dynamic sh tests/cli/run.sh

asan: ## run the tests under AddressSanitizer and UndefinedBehaviorSanitizer
	$(Q)$(MAKE) --no-print-directory SAN=address,undefined build/san-address-undefined/paradup
	$(Q)$(MAKE) --no-print-directory SAN=address,undefined unit
	$(Q)PARADUP=build/san-address-undefined/paradup sh tests/cli/run.sh

tsan: ## run the unit tests and the CLI tests under ThreadSanitizer
	$(Q)$(MAKE) --no-print-directory SAN=thread build/san-thread/paradup
	$(Q)$(MAKE) --no-print-directory SAN=thread unit
	$(Q)PARADUP=build/san-thread/paradup sh tests/cli/run.sh

limits: $(NEED_DEPS) all ## large-input cases: a 5M-line document, a 4.5 GiB file (minutes, ~10 GB disk)
	$(Q)sh tests/limits.sh

bench: $(NEED_DEPS) all $(BENCH_BIN) ## run the benchmarks (BENCH_LARGE=1 adds 1 GB; BENCH_COLD=1, as root, a directory read with the page cache dropped)
	$(Q)sh bench/run.sh

demo: $(NEED_DEPS) all ## run paradup on examples/ and print a summary
	./paradup scan -o report.csv examples/
	@echo "wrote report.csv:"
	@head -n 12 report.csv | cut -c 1-150

install: all ## install binary, header, libraries, man page and pkg-config file
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 paradup $(DESTDIR)$(BINDIR)/paradup
	install -m 644 include/paradup.h $(DESTDIR)$(INCLUDEDIR)/paradup.h
	install -m 644 libparadup.a $(DESTDIR)$(LIBDIR)/libparadup.a
	install -m 755 libparadup.so $(DESTDIR)$(LIBDIR)/libparadup.so.0
	ln -sf libparadup.so.0 $(DESTDIR)$(LIBDIR)/libparadup.so
	install -m 644 src/paradup.1 $(DESTDIR)$(MANDIR)/man1/paradup.1
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(shell sed -n 's/.*PD_VERSION_STRING "\(.*\)"/\1/p' include/paradup.h)|' \
	    paradup.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/paradup.pc

uninstall: ## remove what install put in place
	rm -f $(DESTDIR)$(BINDIR)/paradup $(DESTDIR)$(INCLUDEDIR)/paradup.h \
	    $(DESTDIR)$(LIBDIR)/libparadup.a $(DESTDIR)$(LIBDIR)/libparadup.so \
	    $(DESTDIR)$(LIBDIR)/libparadup.so.0 $(DESTDIR)$(MANDIR)/man1/paradup.1 \
	    $(DESTDIR)$(PKGCONFIGDIR)/paradup.pc

deps: ## install the Debian packages the build needs (apt-get, as root)
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

clean: ## remove build products
	rm -rf build paradup libparadup.a libparadup.so report.csv

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

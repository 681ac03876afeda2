# skiff: one non-recursive GNU Makefile. `make` on a fresh clone configures itself.
.DEFAULT_GOAL := all
SHELL := /bin/bash

# ./configure writes config.mk; make re-reads it once it exists. On a fresh machine
# the build tools come first: install-deps runs before autoreconf and configure.
-include config.mk
configure: configure.ac
	scripts/install-deps
	autoreconf -fi
config.mk: config.mk.in configure
	./configure $(CONFIGURE_ARGS)

PACKAGE_VERSION ?= 0.1.0
prefix ?= /usr/local
exec_prefix ?= $(prefix)
bindir ?= $(exec_prefix)/bin
libexecdir ?= $(exec_prefix)/libexec
datarootdir ?= $(prefix)/share
datadir ?= $(datarootdir)
mandir ?= $(datarootdir)/man

B ?= build
WARN := -Wall -Wextra -Werror -Wformat-security -Wstrict-prototypes -Wvla -Wwrite-strings \
	-Wno-unused-parameter -Wmissing-prototypes
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(WARN) -fno-strict-aliasing \
	-DSKIFF_VERSION='"$(PACKAGE_VERSION)"' -DSKIFF_LIBEXECDIR='"$(libexecdir)/skiff"' -DSKIFF_DATADIR='"$(datadir)/skiff"'
OPT ?= -O2 -g
ALL_CFLAGS = $(BASE_CFLAGS) $(OPT) $(LIB_CFLAGS) $(CFLAGS)

VF_SRC := $(sort $(wildcard vendor-free/*.c))
PKG_SRC := $(sort $(wildcard pkg/*/*.c pkg/*/*/*.c))
SKIFF_SRC := $(sort $(wildcard cmd/skiff/*.c))
RUNTIME_SRC := $(sort $(wildcard cmd/skiff-runtime/*.c))
MONITOR_SRC := $(sort $(wildcard cmd/skiff-monitor/*.c))
MONLIB_SRC := $(sort $(wildcard pkg/monitor/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB_OBJ := $(call obj,$(VF_SRC) $(PKG_SRC))
SKIFF_OBJ := $(call obj,$(SKIFF_SRC))
RUNTIME_OBJ := $(call obj,$(RUNTIME_SRC))
MONITOR_OBJ := $(call obj,$(MONITOR_SRC))
# skiff-monitor links libc, vendor-free and pkg/monitor only (DESIGN: RSS under 1 MiB).
MONLIB_OBJ := $(call obj,$(VF_SRC) $(MONLIB_SRC))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
HELPER_BINS := $(patsubst tests/helpers/%.c,$(B)/tests/%,$(HELPER_SRC))

BINS := bin/skiff bin/skiff-runtime $(if $(MONITOR_SRC),bin/skiff-monitor) bin/skiff-init

.PHONY: all
all: $(BINS) man

$(B)/obj/%.o: %.c config.mk
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libskiff.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# Every command is a new skiff process: the dynamic loader's symbol lookups for libarchive
# (which pulls in libxml2, ICU and libstdc++) and libcrypto cost 3 ms per start. The
# libraries are linked statically, libc stays dynamic (NSS), and --gc-sections drops the
# archive formats skiff never uses. Override SKIFF_LDLIBS with $(LIB_LIBS) where the static
# libraries are missing.
SKIFF_LDLIBS ?= -Wl,--gc-sections -Wl,-Bstatic -l:libyajl_s.a -larchive -lzstd -llzma -llz4 \
	-lbz2 -lsqlite3 -lcrypto -lz -lcap -lseccomp -Wl,-Bdynamic -lm
bin/skiff: $(SKIFF_OBJ) $(B)/libskiff.a
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $(SKIFF_OBJ) $(B)/libskiff.a $(SKIFF_LDLIBS) $(LDFLAGS)

# skiff-runtime is executed two or three times per container start: static linking
# saves the dynamic loader's work each time (it needs only yajl, libseccomp, libcap).
# Override RUNTIME_LDLIBS (e.g. with $(LIB_LIBS)) where the static libraries are missing.
RUNTIME_LDLIBS ?= -static -l:libyajl_s.a -lseccomp -lcap -lm
bin/skiff-runtime: $(RUNTIME_OBJ) $(B)/libskiff.a
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $(RUNTIME_OBJ) $(B)/libskiff.a $(RUNTIME_LDLIBS) $(LDFLAGS)

$(B)/libmonitor.a: $(MONLIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

bin/skiff-monitor: $(MONITOR_OBJ) $(B)/libmonitor.a
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -static -o $@ $(MONITOR_OBJ) $(B)/libmonitor.a $(LDFLAGS)

# The init `run --init` bind-mounts into containers: static, libc only.
bin/skiff-init: cmd/skiff-init/main.c
	@mkdir -p bin
	$(CC) $(BASE_CFLAGS) -O2 -static -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libskiff.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -o $@ $< $(B)/libskiff.a $(CMOCKA_LIBS) $(LIB_LIBS) $(LDFLAGS)

# The multi-call helper that can be a container's whole rootfs: static, libc only.
$(B)/tests/skiff-test-init: tests/helpers/skiff-test-init.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O2 -g -static -o $@ $<

$(B)/tests/%: tests/helpers/%.c $(B)/libskiff.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libskiff.a $(LIB_LIBS) $(LDFLAGS)

-include $(LIB_OBJ:.o=.d) $(SKIFF_OBJ:.o=.d) $(RUNTIME_OBJ:.o=.d) $(MONITOR_OBJ:.o=.d)

# ---- man pages and completions, generated from the command table ----
MAN_SRC = $(wildcard man/*.scd)
MAN_OUT = $(patsubst man/%.scd,$(B)/man/%,$(MAN_SRC))
.PHONY: man
man: $(MAN_OUT)
$(B)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@

.PHONY: generate
generate: bin/skiff
	build-aux/generate

# ---- tests ----
.PHONY: deps unit unit-asan unit-tsan check-layers fixtures system check check-clang bench demo
deps:
	scripts/install-deps

unit: $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)

unit-asan:
	$(MAKE) --no-print-directory B=build-asan OPT='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' unit

# The threaded code (pkg/digest's async digester) under ThreadSanitizer.
TSAN_TESTS := test_digest test_asyncpipe test_archive
unit-tsan:
	$(MAKE) --no-print-directory B=build-tsan OPT='-O1 -g -fsanitize=thread' LDFLAGS='-fsanitize=thread' \
		$(addprefix build-tsan/tests/,$(TSAN_TESTS))
	@tests/run-unit $(addprefix build-tsan/tests/,$(TSAN_TESTS))

check-clang:
	$(MAKE) --no-print-directory B=build-clang CC=clang $(LIB_OBJ:$(B)/%=build-clang/%) $(SKIFF_OBJ:$(B)/%=build-clang/%) \
		$(RUNTIME_OBJ:$(B)/%=build-clang/%) $(MONITOR_OBJ:$(B)/%=build-clang/%)

check-layers:
	build-aux/check-layers

.PHONY: check-format format
check-format:
	@bad=$$(git ls-files --cached --others --exclude-standard '*.c' '*.h' | while read -r f; do clang-format --dry-run --Werror "$$f" >/dev/null 2>&1 || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "not formatted (run make format):"; echo "$$bad"; exit 1; fi
format:
	git ls-files --cached --others --exclude-standard '*.c' '*.h' | xargs clang-format -i

fixtures: bin/skiff
	tests/fixtures/make-all $(B)/fixtures

system: all fixtures $(HELPER_BINS)
	tests/system/run-all

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(HELPER_BINS)
	@tests/check-all

bench: deps all fixtures
	tests/perf/run
	tests/perf/containers
	tests/perf/registry
	tests/perf/network
	tests/perf/build

demo: deps
	@$(MAKE) --no-print-directory all
	scripts/demo

# ---- install ----
.PHONY: install
install: all
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libexecdir)/skiff $(DESTDIR)$(mandir)/man1
	install -m 0755 bin/skiff $(DESTDIR)$(bindir)/skiff
	install -m 0755 bin/skiff-runtime $(DESTDIR)$(bindir)/skiff-runtime
	install -m 0755 bin/skiff-monitor $(DESTDIR)$(libexecdir)/skiff/skiff-monitor
	install -m 0755 bin/skiff-init $(DESTDIR)$(libexecdir)/skiff/skiff-init
	install -d $(DESTDIR)$(datadir)/skiff
	install -m 0644 data/seccomp.json $(DESTDIR)$(datadir)/skiff/seccomp.json
	for f in $(MAN_OUT); do install -m 0644 $$f $(DESTDIR)$(mandir)/man1/; done
	install -d $(DESTDIR)$(datadir)/bash-completion/completions $(DESTDIR)$(datadir)/zsh/site-functions \
		$(DESTDIR)$(datadir)/fish/vendor_completions.d
	install -m 0644 completions/bash/skiff $(DESTDIR)$(datadir)/bash-completion/completions/skiff
	install -m 0644 completions/zsh/_skiff $(DESTDIR)$(datadir)/zsh/site-functions/_skiff
	install -m 0644 completions/fish/skiff.fish $(DESTDIR)$(datadir)/fish/vendor_completions.d/skiff.fish

.PHONY: clean distclean
clean:
	rm -rf build build-asan build-clang build-tsan bin
distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache aclocal.m4

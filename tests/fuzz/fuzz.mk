# libFuzzer harnesses (tests/fuzz/fuzz-*.c), one per parser gpotool owns. Included by the
# main Makefile, whose LIB_SRCS, WARN, PKG_CFLAGS and PKG_LDLIBS it uses. Built with clang
# into build/fuzz/, apart from the gcc objects: the library sources (all of gpotool/ but
# cmd/main.c, as the unit tests link them) plus one harness each.
#
#   make fuzz          every harness for FUZZ_SECONDS (60), seeded, FUZZ_JOBS (2) at once
#   make fuzz-check    every harness for FUZZ_CHECK_SECONDS (3): TAP lines, "N passed, N
#                      failed", non-zero exit when any harness crashed (for `make check`)
#   make fuzz-build    only build them
#   build/fuzz/fuzz-NAME [libFuzzer options] [DIR|FILE...]   one harness by hand
#
# Seeds, crash reproducers and logs: see tests/fuzz/run-fuzz. Needs clang (Debian: clang).

FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_CHECK_SECONDS ?= 3
FUZZ_JOBS          ?= 2
FUZZ_SAN   := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1
FUZZ_NAMES := $(sort $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c)))
FUZZ_BINS  := $(FUZZ_NAMES:%=build/fuzz/fuzz-%)
FUZZ_LIB   := $(LIB_SRCS:gpotool/%.c=build/fuzz/obj/%.o)

.PHONY: fuzz fuzz-check fuzz-build

build/fuzz/obj/%.o: gpotool/%.c $(HDRS) | deps
	@mkdir -p $(@D)
	@echo "  CC/FUZZ $<"
	@$(FUZZ_CC) $(WARN) $(FUZZ_SAN) $(PKG_CFLAGS) -c $< -o $@

build/fuzz/harness/fuzz-%.o: tests/fuzz/fuzz-%.c tests/fuzz/fuzzutil.h $(HDRS) | deps
	@mkdir -p $(@D)
	@echo "  CC/FUZZ $<"
	@$(FUZZ_CC) $(WARN) $(FUZZ_SAN) $(PKG_CFLAGS) -Igpotool -DFUZZ_SRCDIR=\"$(CURDIR)\" -c $< -o $@

# a static pattern rule, so that make keeps the objects (they are not intermediate files)
$(FUZZ_BINS): build/fuzz/fuzz-%: build/fuzz/harness/fuzz-%.o $(FUZZ_LIB)
	@echo "  LINK    $@"
	@$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(PKG_LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run-fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

# Without clang there is nothing to run: say so, and do not fail `make check` for it.
fuzz-check:
	@if ! command -v $(FUZZ_CC) >/dev/null 2>&1; then \
	  echo "fuzz-check: skipped, $(FUZZ_CC) is not installed (apt-get install clang)"; \
	else \
	  $(MAKE) --no-print-directory fuzz-build && \
	  FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run-fuzz --check $(FUZZ_CHECK_SECONDS) $(FUZZ_NAMES); \
	fi

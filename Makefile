# gpotool — see README.md. The two commands a fresh Debian machine needs: `make demo`, `make check`.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
SHELL   := /bin/bash

# Debian packages: build (first line), tests and demo (second line).
DEB_PACKAGES := gcc make pkg-config libhivex-dev libregf-dev libbfio-dev libxml2-dev libjson-c-dev libssl-dev libsasl2-dev \
                libcmocka-dev libldap-dev libsasl2-modules-gssapi-mit libsmbclient-dev libkrb5-dev \
                reglookup libhivex-bin libregf-utils xz-utils gzip perl python3 strace clang acl attr

PKG_LIBS := hivex libregf json-c libcrypto libxml-2.0 ldap smbclient krb5
WARN     := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -D_GNU_SOURCE -Igpotool -DGPOTOOL_DATADIR=\"$(PREFIX)/share/gpotool/templates\"
PKG_CFLAGS = $(shell pkg-config --cflags $(PKG_LIBS) 2>/dev/null)
PKG_LDLIBS = $(shell pkg-config --libs $(PKG_LIBS) 2>/dev/null) -lresolv
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SRCS      := $(sort $(wildcard gpotool/*/*.c))
HDRS      := $(wildcard gpotool/*/*.h)
LIB_SRCS  := $(filter-out gpotool/cmd/main.c,$(SRCS))
# Unit tests are named FOLDER-MODULE.c for the module gpotool/FOLDER/MODULE.c they test.
UNIT_SRCS := $(wildcard tests/unit/*.c)

OBJS      := $(SRCS:gpotool/%.c=build/obj/%.o)
LIB_OBJS  := $(LIB_SRCS:gpotool/%.c=build/obj/%.o)
ASAN_OBJS := $(SRCS:gpotool/%.c=build/asan/obj/%.o)
ASAN_LIB  := $(LIB_SRCS:gpotool/%.c=build/asan/obj/%.o)
UNITS     := $(UNIT_SRCS:tests/unit/%.c=build/unit/%)
ASAN_UNITS := $(UNIT_SRCS:tests/unit/%.c=build/asan/unit/%)

# Sample Windows images built from the .reg sources in hives/ (see hives/README.md).
SAMPLE_REGS   := $(wildcard hives/*/*.reg)
image_of = build/images/$(word 2,$(subst /, ,$(1)))/Windows/System32/config/$(basename $(notdir $(1)))
SAMPLE_HIVES  := $(foreach f,$(SAMPLE_REGS),$(call image_of,$(f)))

.PHONY: all samples deps deps-bench deps-domain bench check check-unit check-integration demo install clean asan
.DELETE_ON_ERROR:

all: build/gpotool samples

# Installs what is missing as root; otherwise prints the exact line and stops.
define install_missing
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	  else \
	    echo "gpotool needs these Debian packages; as root run:"; \
	    echo "  apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi
endef

deps:
	$(call install_missing,$(DEB_PACKAGES))

# The live-domain tests' real AD DC (tests/lib/samba-dc.sh reads this line): Samba as a DC with
# the modules provisioning and SYSVOL need, its client tools, and what the harness itself runs
# (openssl makes the DC's certificates, ss finds free addresses, unshare and nsenter give each DC
# its own winbindd socket).
DOMAIN_TEST_PACKAGES := samba samba-ad-provision samba-dsdb-modules samba-vfs-modules ldb-tools winbind ldap-utils krb5-user smbclient openssl iproute2 util-linux

# Like install_missing, for packages whose postinst starts services: a /usr/sbin/policy-rc.d that
# exits 101 is in place during the install (else smbd, nmbd and samba-ad-dc start on every
# interface and a test DC cannot bind), made here only if absent and removed only if made here.
# Without root it prints the line and goes on: the tests that need these skip, saying why.
define install_missing_no_services
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	[ -n "$$missing" ] || exit 0; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "$(2) need these Debian packages, and skip without them; as root run:"; \
	  echo "  apt-get install -y --no-install-recommends$$missing"; \
	  echo "with a /usr/sbin/policy-rc.d that exits 101 in place (make $@ as root does both)"; \
	  exit 0; \
	fi; \
	made=""; \
	trap '[ -z "$$made" ] || rm -f /usr/sbin/policy-rc.d' EXIT; \
	if [ ! -e /usr/sbin/policy-rc.d ]; then \
	  made=1; printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d || exit 1; \
	fi; \
	echo "installing Debian packages, no service started:$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null
endef

deps-domain:
	$(call install_missing_no_services,$(DOMAIN_TEST_PACKAGES),the live-domain tests)

# The peers make bench measures gpotool against, and GNU time for the peak RSS.
BENCH_PACKAGES := libwin-hivex-perl chntpw time libxml2-utils python3
deps-bench:
	$(call install_missing,$(BENCH_PACKAGES))

bench: deps deps-bench build/gpotool
	@python3 tests/bench/bench.py build/gpotool build/bench BENCHMARKS.md

build/obj/%.o: gpotool/%.c $(HDRS) | deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

build/asan/obj/%.o: gpotool/%.c $(HDRS) | deps
	@mkdir -p $(@D)
	@echo "  CC/SAN  $<"
	@$(CC) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) -c $< -o $@

# The data path compiled into core/datadir.o follows PREFIX: build/prefix holds the PREFIX of the last
# build and is rewritten (so datadir.o is rebuilt) only when it changes, e.g. by
# `make install PREFIX=/usr` after a default build.
.PHONY: FORCE
build/prefix: FORCE
	@mkdir -p $(@D)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' >$@
build/obj/core/datadir.o build/asan/obj/core/datadir.o: build/prefix

build/gpotool: $(OBJS)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(PKG_LDLIBS)

build/asan/gpotool: $(ASAN_OBJS)
	@echo "  LINK    $@"
	@$(CC) -g $(SAN) -o $@ $^ $(PKG_LDLIBS)

build/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(@D)
	@echo "  LINK    $@"
	@$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB_OBJS) $(PKG_LDLIBS) -lcmocka

build/asan/unit/%: tests/unit/%.c $(ASAN_LIB)
	@mkdir -p $(@D)
	@echo "  LINK    $@"
	@$(CC) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) -o $@ $< $(ASAN_LIB) $(PKG_LDLIBS) -lcmocka

asan: build/asan/gpotool $(ASAN_UNITS)

# A sample hive: an empty hive written by gpotool, then the .reg source imported into it; both
# with the build's own state directory, never the real audit trail (/var/lib/gpotool as root).
samples: $(SAMPLE_HIVES)
define sample_rule
$(2): $(1) build/gpotool
	@mkdir -p $$(@D)
	@rm -f $$@.new
	@build/gpotool --state-dir build/state-samples hive new $$@.new --kind $$(notdir $$@) >/dev/null
	@build/gpotool --state-dir build/state-samples hive import $$@.new $$< >/dev/null
	@mv $$@.new $$@
	@echo "built $$@ from $$<"
endef
$(foreach f,$(SAMPLE_REGS),$(eval $(call sample_rule,$(f),$(call image_of,$(f)))))

check: deps deps-domain all asan $(UNITS) build/faultshim.so
	@echo "== every fuzz harness for $(FUZZ_CHECK_SECONDS) s (ASan + UBSan), replaying the regressions first"
	@$(MAKE) --no-print-directory fuzz-check
	@echo "== unit and integration tests"
	@tests/run-tests build/gpotool build/unit
	@echo "== the same tests under AddressSanitizer and UBSan (fault injection with EIO only, 8 kills: ASan is 4x slower)"
	@T4400_ERRNOS=EIO T4300_KILLS=8 tests/run-tests build/asan/gpotool build/asan/unit

demo: deps all
	@tests/demo.sh build/gpotool

install: build/gpotool
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/gpotool/templates $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 build/gpotool $(DESTDIR)$(PREFIX)/bin/gpotool
	cp -R templates/. $(DESTDIR)$(PREFIX)/share/gpotool/templates/
	install -m 0644 gpotool/gpotool.1 $(DESTDIR)$(PREFIX)/share/man/man1/gpotool.1

clean:
	rm -rf build

include tests/fuzz/fuzz.mk

include tests/fault/fault.mk

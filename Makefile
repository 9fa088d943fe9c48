# stackd — top-level build (plain GNU make, objects out of tree under build/)
#
#   make            build libstackd, the daemons and their ctl tools
#   make deps       install the Debian packages for build, tests, demo, bench
#   make check      unit + integration tests under ASan+UBSan (build/san/)
#   make fuzz       build the libFuzzer targets and run each FUZZ_TIME seconds
#   make bench      build bench/*.c (bench-build) and run the side-by-side
#                   benchmarks in bench/
#   make bench-NAME only bench/NAME.sh (BENCH_SMOKE=1 make bench-dbrouter)
#   make demo       build and run the whole site on this machine
#   make install    PREFIX=/usr/local DESTDIR= SYSCONFDIR=/etc (see below)
#
# Daemon directories add themselves with a module.mk fragment that appends
# to PROGS (see lbd/module.mk for the shape), so this file rarely changes.

.DEFAULT_GOAL := all
BUILD	?= build
SAN	?= 0
PREFIX	?= /usr/local
DESTDIR	?=
# Where `make install` puts what is not under PREFIX (see the install rule).
SYSCONFDIR ?= /etc
INITDIR	?= $(SYSCONFDIR)/init.d
UNITDIR	?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
FUZZ_TIME ?= 60
# make check's fuzz smoke run, seconds per target
CHECK_FUZZ_TIME ?= 10

CC	?= cc
CFLAGS	?= -O2 -g
WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2 -Wno-unused-parameter -Wno-format-nonliteral
CPPFLAGS += -D_GNU_SOURCE -Icommon
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -MMD -MP
TLS_LIBS := -lmbedtls -lmbedx509 -lmbedcrypto
LDLIBS	+= $(TLS_LIBS) -lm

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_CFLAGS += $(SANFLAGS)
LDFLAGS	+= $(SANFLAGS)
endif

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
LIB	:= $(BUILD)/libstackd.a

# Programs: each entry NAME has NAME_SRC (sources) and installs to sbin
# (daemons) or bin (ctl tools) according to NAME_DIR.
PROGS	:=
UNIT_EXTRA_SRC :=
# Pure daemon sources a module lets the fuzz targets link, and its -I.
FUZZ_EXTRA_SRC :=
FUZZ_CPPFLAGS :=
-include $(sort $(wildcard */module.mk))
PROG_BINS := $(PROGS:%=$(BUILD)/bin/%)

# The foundation's end-to-end example: ctl socket + HTTPS listener.
EXAMPLE_SRC := $(sort $(wildcard tests/chain/*.c))
EXAMPLE	:= $(BUILD)/tests/stackd-hello

UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
UNIT	:= $(BUILD)/tests/check_stackd

# Benchmark helpers: one program per bench/*.c, linked with libstackd only.
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRC:%.c=$(BUILD)/%)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BUILD := build/fuzz
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Icommon $(FUZZ_CPPFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

.PHONY: all deps check check-unit check-integration check-build fuzz fuzz-build \
	bench bench-build demo install clean man-lint

all: $(LIB) $(PROG_BINS) $(EXAMPLE)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CHECK_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# One link rule for every program registered by a module.mk.
define prog_rule
$(BUILD)/bin/$(1): $$($(1)_SRC:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$($(1)_SRC:%.c=$(BUILD)/%.o) $(LIB) $$($(1)_LIBS) $$(LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

$(EXAMPLE): $(EXAMPLE_SRC:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(EXAMPLE_SRC:%.c=$(BUILD)/%.o) $(LIB) $(LDLIBS)

$(BENCH_BINS): $(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

bench-build: $(BENCH_BINS)

UNIT_EXTRA_OBJ = $(UNIT_EXTRA_SRC:%.c=$(BUILD)/%.o)
$(UNIT): $(UNIT_OBJ) $(UNIT_EXTRA_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(UNIT_EXTRA_OBJ) $(LIB) $(CHECK_LIBS) $(LDLIBS)

deps:
	@sh tests/deps.sh

# `make check` always tests the sanitizer build, in its own tree. Both stages
# run even if the first fails; the last line adds their counts.
check: deps
	@$(MAKE) --no-print-directory BUILD=build/san SAN=1 check-build
	@rm -f build/san/results/*.counts; st=0; \
	$(MAKE) --no-print-directory BUILD=build/san SAN=1 check-unit || st=1; \
	$(MAKE) --no-print-directory BUILD=build/san SAN=1 check-integration-only || st=1; \
	$(MAKE) --no-print-directory fuzz FUZZ_TIME=$(CHECK_FUZZ_TIME) \
		STACKD_COUNTS=$(CURDIR)/build/san/results/fuzz.counts || st=1; \
	sh tests/summary.sh build/san || st=1; exit $$st

# Test certificates (CA, server ECDSA+RSA, a wrong CA), keys mode 0600.
CERTS	:= $(BUILD)/certs/stamp
$(CERTS): tests/mkcerts.sh
	@mkdir -p $(@D)
	sh tests/mkcerts.sh $(@D)
	@touch $@

# The bench helpers are built too, so an API change cannot leave them behind.
check-build: all $(UNIT) $(CERTS) bench-build

check-unit: check-build
	@mkdir -p $(BUILD)/results
	CK_DEFAULT_TIMEOUT=60 STACKD_COUNTS=$(BUILD)/results/unit.counts \
		STACKD_TESTDATA=$(CURDIR)/tests/data \
		STACKD_CERTS=$(CURDIR)/$(BUILD)/certs $(UNIT)

check-integration: check-build check-integration-only

.PHONY: check-integration-only
check-integration-only:
	@mkdir -p $(BUILD)/results
	STACKD_SRC=$(CURDIR) STACKD_BUILD=$(CURDIR)/$(BUILD) STACKD_COUNTS=$(BUILD)/results/integration.counts \
		bash tests/integration/run.sh $(T)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/%: tests/fuzz/%.c $(COMMON_SRC) $(FUZZ_EXTRA_SRC)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(COMMON_SRC) $(FUZZ_EXTRA_SRC) $(LDLIBS)

fuzz: fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME)

bench: all bench-build
	@set -e; for b in bench/*.sh; do [ -e "$$b" ] || continue; echo "== $$b"; \
		STACKD_BUILD=$(CURDIR)/$(BUILD) sh "$$b"; done

# One of them: bench-lbd, bench-dbrouter, ... (bench-build is phony, so
# this pattern never applies to it).
bench-%: all bench-build
	@[ -e bench/$*.sh ] || { echo "no bench/$*.sh"; exit 1; }
	STACKD_BUILD=$(CURDIR)/$(BUILD) sh bench/$*.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@STACKD_BUILD=$(CURDIR)/$(BUILD) sh etc/demo.sh

man-lint:
	@set -e; for m in man/*.[0-9]; do [ -e "$$m" ] || continue; mandoc -Tlint -Wwarning "$$m"; done

# install: the programs and man pages under PREFIX; the systemd units,
# tmpfiles.d and sysusers.d snippets under PREFIX/lib (systemd reads
# /usr/lib and /usr/local/lib alike); the sysvinit scripts in INITDIR; the
# example configurations in SYSCONFDIR/stackd, never over existing ones;
# the roles and the example site. Paths in the scripts and units are the
# ones given here (sed on the .in files). Everything goes under DESTDIR.
# install-files does the same without building first.
SUBST	= sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@BINDIR@|$(PREFIX)/bin|g' \
	  -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@INITDIR@|$(INITDIR)|g'
.PHONY: install-files
install: all
	@$(MAKE) --no-print-directory install-files

install-files:
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(INITDIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(SYSCONFDIR)/stackd/fwd $(DESTDIR)$(SYSCONFDIR)/stackd/roles \
		$(DESTDIR)$(PREFIX)/share/stackd/foobar
	@set -e; for p in $(PROGS); do \
		case "$$p" in *ctl) d=bin ;; *) d=sbin ;; esac; \
		echo install -m 755 $(BUILD)/bin/$$p $(DESTDIR)$(PREFIX)/$$d/$$p; \
		install -m 755 $(BUILD)/bin/$$p $(DESTDIR)$(PREFIX)/$$d/$$p; done
	@set -e; for m in man/*.[578]; do [ -e "$$m" ] || continue; s=$${m##*.}; \
		install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	@set -e; tab=$$(printf '\t'); grep -v '^#' etc/init.d/daemons | \
	while IFS="$$tab" read -r name ctl should desc; do \
		echo "install $(DESTDIR)$(INITDIR)/stackd-$$name $(DESTDIR)$(UNITDIR)/stackd-$$name.service"; \
		$(SUBST) -e "s|@NAME@|$$name|g" -e "s|@CTL@|$$ctl|g" \
			-e "s|@SHOULD@|$$should|g" -e "s|@DESC@|$$desc|g" \
			etc/init.d/stackd.in > $(DESTDIR)$(INITDIR)/stackd-$$name; \
		chmod 755 $(DESTDIR)$(INITDIR)/stackd-$$name; \
		$(SUBST) etc/systemd/stackd-$$name.service.in > \
			$(DESTDIR)$(UNITDIR)/stackd-$$name.service; \
		chmod 644 $(DESTDIR)$(UNITDIR)/stackd-$$name.service; done
	$(SUBST) etc/roles/stackd-role.in > $(DESTDIR)$(PREFIX)/sbin/stackd-role
	chmod 755 $(DESTDIR)$(PREFIX)/sbin/stackd-role
	install -m 644 etc/tmpfiles.d/stackd.conf $(DESTDIR)$(TMPFILESDIR)/stackd.conf
	install -m 644 etc/sysusers.d/stackd.conf $(DESTDIR)$(SYSUSERSDIR)/stackd.conf
	install -m 644 etc/roles/*.role $(DESTDIR)$(SYSCONFDIR)/stackd/roles/
	@set -e; for f in lbd.conf webd.conf dbrouter.conf agentd.conf fwd/lb.conf \
		fwd/web.conf fwd/db.conf; do t=$(DESTDIR)$(SYSCONFDIR)/stackd/$$f; \
		if [ -e "$$t" ]; then echo "$$t exists: not replaced"; \
		else echo install -m 644 etc/$$f $$t; install -m 644 etc/$$f $$t; fi; done
	cp -R etc/foobar/. $(DESTDIR)$(PREFIX)/share/stackd/foobar/

clean:
	rm -rf build

-include $(COMMON_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(UNIT_EXTRA_OBJ:.o=.d) $(EXAMPLE_SRC:%.c=$(BUILD)/%.d) \
	$(BENCH_SRC:%.c=$(BUILD)/%.d)
-include $(foreach p,$(PROGS),$($(p)_SRC:%.c=$(BUILD)/%.d))

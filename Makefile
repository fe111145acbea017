# sshell: top-level, non-recursive Makefile.
#
# Every directory owns a fragment (common/common.mk, noded/noded.mk,
# noded/ckpt/ckpt.mk, shell/shell.mk, tests/tests.mk) that appends to the
# variables below; this file holds the rules they share.  Objects and
# binaries go under $(B) (build/ by default, build-asan/ for check-asan).
#
#   BINS       programs installed in $(PREFIX)/bin
#   SBINS      programs installed in $(PREFIX)/sbin
#   LIBEXEC    helper programs noded runs (installed in $(PREFIX)/lib/sshell)
#   UNIT_TESTS cmocka test programs, run by `make check-unit`
#   MAN1/MAN5/MAN8  man pages

PREFIX  ?= /usr/local
DESTDIR ?=
B       ?= build
CC      ?= cc
SAN     ?=
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -Icommon $(SAN)
LDFLAGS += $(SAN)
SHELL   := /bin/bash

DEBS := build-essential pkg-config libssh-dev libsqlite3-dev libreadline-dev \
	libcmocka-dev iproute2 tmux perl procps man-db groff-base mandoc psmisc \
	bsdextrautils util-linux dc gawk sed tar coreutils

BINS :=
SBINS :=
LIBEXEC :=
UNIT_TESTS :=
CKPT_TESTS :=
MAN1 :=
MAN5 :=
MAN8 :=

.PHONY: all deps check check-unit check-integ check-ckpt check-asan demo \
	bench install clean

all:

include common/common.mk
include noded/ckpt/ckpt.mk
include noded/noded.mk
include shell/shell.mk
include tests/tests.mk
-include man/man.mk
-include contrib/contrib.mk
-include tests/integ/integ.mk
-include tests/bench/bench.mk

all: $(BINS) $(SBINS) $(LIBEXEC) $(CKPT_TESTS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CFLAGS_$(subst /,_,$(dir $<))) -MMD -MP -c -o $@ $<

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# deps: install the Debian packages that are missing, and nothing else.
deps:
	@missing=""; for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing \
			|| { $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive \
				apt-get install -y $$missing; }; \
	fi

check: deps
	$(MAKE) all
	$(MAKE) check-unit
	$(MAKE) check-ckpt
	$(MAKE) check-integ

check-unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

check-asan: deps
	$(MAKE) B=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" check-unit

demo: deps
	$(MAKE) all
	contrib/demo

bench: deps
	@$(MAKE) --no-print-directory DEBS="$(BENCH_DEBS)" deps
	$(MAKE) all $(BENCH_TOOLS)
	tests/bench/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(PREFIX)/lib/sshell $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(SBINS) $(DESTDIR)$(PREFIX)/sbin
	$(if $(LIBEXEC),install -m 755 $(LIBEXEC) $(DESTDIR)$(PREFIX)/lib/sshell)
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1)
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5)
	$(if $(MAN8),install -m 644 $(MAN8) $(DESTDIR)$(PREFIX)/share/man/man8)

clean:
	rm -rf build build-asan

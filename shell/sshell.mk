# shell/sshell.mk: fragment of the top-level Makefile (see there), included
# from shell/shell.mk.
#
# sshell is shell/sshell.c (main), shell/sshell-*.c (parser, prelude, jobs,
# terminal, readline) and one shell/builtin-*.c per builtin, collected by
# the table in shell/sshell-builtin.c.  It links $(COMMON_LIB) and GNU
# readline, never libssh or SQLite (see shell/shell.mk).
#
# The pure modules (parser and prelude) are also linked into the unit
# tests tests/unit/test_sshell_*.c.  tests/tests.mk already lists every
# tests/unit/test_*.c in UNIT_TESTS, so they are not appended again here
# (they would run twice); this fragment only adds their extra objects.

SSHELL_PURE_SRCS := shell/sshell-parse.c shell/sshell-prelude.c
SSHELL_SRCS := $(sort $(wildcard shell/sshell*.c shell/builtin-*.c))
SSHELL_OBJS := $(SSHELL_SRCS:%.c=$(B)/obj/%.o)
SSHELL_PURE_OBJS := $(SSHELL_PURE_SRCS:%.c=$(B)/obj/%.o)
SSHELL_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,\
	$(wildcard tests/unit/test_sshell_*.c))

ifneq ($(wildcard shell/sshell.c),)
BINS += $(B)/bin/sshell
endif

.SECONDARY: $(SSHELL_OBJS)

$(B)/bin/sshell: $(SSHELL_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(SSHELL_OBJS) $(COMMON_LIB) -lreadline

# Extra prerequisites of the pattern rule in tests/tests.mk: they join $^.
$(SSHELL_TESTS): $(SSHELL_PURE_OBJS)

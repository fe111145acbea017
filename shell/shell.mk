# shell/shell.mk: fragment of the top-level Makefile (see there).
#
# The thin tools: each shell/NAME.c is one program, $(B)/bin/NAME, linked
# with $(COMMON_LIB) alone.  They must never link libssh or SQLite (a
# tool run should cost about a millisecond, see DESIGN.md "Transport"); an
# archive pulls in only the objects a tool uses, so common/dir.o and its
# SQLite references stay out.  sshell has its own fragment
# (shell/sshell.mk), and sckpt is built by noded/ckpt's.

SHELL_TOOLS := sps skill snodes ssubmit smigrate
SHELL_TOOL_BINS := $(SHELL_TOOLS:%=$(B)/bin/%)
BINS += $(SHELL_TOOL_BINS)

.SECONDARY: $(SHELL_TOOLS:%=$(B)/obj/shell/%.o)

$(SHELL_TOOL_BINS): $(B)/bin/%: $(B)/obj/shell/%.o $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(COMMON_LIB)

-include shell/sshell.mk

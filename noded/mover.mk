# noded/mover.mk: sshell-mover, the process that moves one job to another
# node (noded/mover.c): it links the checkpoint engine and libssh, which
# noded itself does not need to carry ptrace state for.  Included by
# noded/noded.mk.

MOVER := $(B)/bin/sshell-mover
MOVER_OBJS := $(B)/obj/noded/mover.o $(B)/obj/noded/sshc.o
LIBEXEC += $(MOVER)

$(MOVER): $(MOVER_OBJS) $(CKPT_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(MOVER_OBJS) $(CKPT_LIB) $(COMMON_LIB) -lssh -lpthread

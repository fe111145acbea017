# fragment: see top-level Makefile
# contrib/: sshell-reaper, pid 1 of each node of contrib/localcluster (which
# uses $(B)/bin/sshell-reaper, or compiles a private copy if it is missing).
# contrib/noded.service is installed by hand (see its comments).
REAPER := $(B)/bin/sshell-reaper
LIBEXEC += $(REAPER)

$(REAPER): $(B)/obj/contrib/reaper.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

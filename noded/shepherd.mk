# noded/shepherd.mk: sshell-shepherd, the per-job helper noded execs
# (noded/shepherd.c), and its test, which drives it exactly as noded does.
# Included by noded/noded.mk.
#
# The test needs the shepherd binary; it finds it through $SSHELL_SHEPHERD,
# else at the build path compiled in.  As non-root it skips what needs root
# (PID namespace, cgroup, another uid).

SHEPHERD := $(B)/bin/sshell-shepherd
SHEPHERD_OBJS := $(B)/obj/noded/shepherd.o
LIBEXEC += $(SHEPHERD)

$(SHEPHERD): $(SHEPHERD_OBJS) $(CKPT_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(SHEPHERD_OBJS) $(CKPT_LIB) $(COMMON_LIB)

TEST_SHEPHERD := $(B)/tests/test_shepherd
UNIT_TESTS += $(TEST_SHEPHERD)
CFLAGS_tests_shepherd_ := -DSHEPHERD_PATH='"$(SHEPHERD)"'

$(TEST_SHEPHERD): $(B)/obj/tests/shepherd/test_shepherd.o $(COMMON_LIB) $(SHEPHERD)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(B)/obj/tests/shepherd/test_shepherd.o $(COMMON_LIB)

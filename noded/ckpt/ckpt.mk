# noded/ckpt/ckpt.mk: the checkpoint engine (libckpt.a), sckpt, and its
# zdtm-style tests (tests/ckpt/).  See the top-level Makefile.

CKPT_SRCS := $(sort $(wildcard noded/ckpt/*.c)) \
	$(sort $(wildcard noded/ckpt/arch/x86_64/*.c))
CKPT_OBJS := $(CKPT_SRCS:%.c=$(B)/obj/%.o)
CKPT_LIB := $(B)/lib/libckpt.a

$(CKPT_LIB): $(CKPT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

BINS += $(B)/bin/sckpt
MAN1 += man/sckpt.1

$(B)/bin/sckpt: $(B)/obj/shell/sckpt.o $(CKPT_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# Test programs: tests/ckpt/<name>.c -> $(B)/tests/ckpt/<name>; api-*
# ones link the engine.
CKPT_TEST_SRCS := $(sort $(wildcard tests/ckpt/*.c))
CKPT_TESTS += $(CKPT_TEST_SRCS:tests/ckpt/%.c=$(B)/tests/ckpt/%)

$(B)/tests/ckpt/%: $(B)/obj/tests/ckpt/%.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

$(B)/tests/ckpt/api-%: $(B)/obj/tests/ckpt/api-%.o $(CKPT_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

check-ckpt: $(B)/bin/sckpt $(CKPT_TESTS)
	B=$(B) prove -v tests/ckpt/run.sh

# tests/tests.mk: fragment of the top-level Makefile (see there).
#
# Unit tests: each tests/unit/test_NAME.c is one cmocka program,
# $(B)/tests/test_NAME, linked with every common object (test_ckpt_NAME
# also with the checkpoint engine); `make check-unit` runs them all.
# Adding a test means adding a file, nothing else.

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_OBJS := $(UNIT_SRCS:tests/unit/%.c=$(B)/obj/tests/unit/%.o)
UNIT_TESTS += $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

# Kept after a build, so that a second `make check-unit` relinks nothing.
.SECONDARY: $(UNIT_OBJS)

$(B)/tests/test_%: $(B)/obj/tests/unit/test_%.o $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka -lsqlite3

# test_ckpt_*: parts of the checkpoint engine, with its library.
$(B)/tests/test_ckpt_%: $(B)/obj/tests/unit/test_ckpt_%.o $(CKPT_LIB) \
    $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka -lsqlite3 -lpthread

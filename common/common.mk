# common/: objects shared by noded, the tools and the tests.
COMMON_SRCS := $(sort $(wildcard common/*.c))
COMMON_OBJS := $(COMMON_SRCS:%.c=$(B)/obj/%.o)
# The tools link only these (no SQLite, no libssh).
COMMON_LIB := $(B)/lib/libcommon.a

$(COMMON_LIB): $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

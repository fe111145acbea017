# noded/: the node daemon (and, through shepherd.mk, its shepherd).
NODED_SRCS := $(wildcard noded/*.c)
NODED_SRCS := $(filter-out noded/shepherd%.c noded/mover.c,$(NODED_SRCS))
NODED_OBJS := $(NODED_SRCS:%.c=$(B)/obj/%.o)

SBINS += $(B)/bin/noded

$(B)/bin/noded: $(NODED_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(NODED_OBJS) $(COMMON_LIB) -lssh -lsqlite3 -lpthread -lm

-include noded/shepherd.mk
-include noded/mover.mk

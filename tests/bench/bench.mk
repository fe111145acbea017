# tests/bench: the benchmark helpers (make bench runs tests/bench/run).
BENCH_TOOLS := $(B)/bin/timeit
BENCH_DEBS := openssh-server openssh-client

$(B)/bin/timeit: $(B)/obj/tests/bench/timeit.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

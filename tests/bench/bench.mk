# tests/bench: the benchmark helpers (make bench runs tests/bench/run).
#   timeit     times a command many times, prints its median and spread
#   chanbench  raw throughput of one libssh channel on loopback, and memcpy
#   memhog     a job of a known resident size, for the migration figures
BENCH_TOOLS := $(B)/bin/timeit $(B)/bin/chanbench $(B)/bin/memhog
BENCH_DEBS := openssh-server openssh-client

$(B)/bin/timeit: $(B)/obj/tests/bench/timeit.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(B)/bin/chanbench: $(B)/obj/tests/bench/chanbench.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lssh

$(B)/bin/memhog: $(B)/obj/tests/bench/memhog.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# make fuzz: libFuzzer harnesses of the parsers (clang), not run by check.
.PHONY: fuzz
fuzz:
	@mkdir -p build/fuzz
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE -Icommon -fsanitize=fuzzer,address,undefined \
		-o build/fuzz/fuzz_proto tests/fuzz/fuzz_proto.c common/buf.c common/proto.c common/err.c
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE -Icommon -Inoded/ckpt -fsanitize=fuzzer,address,undefined \
		-o build/fuzz/fuzz_image tests/fuzz/fuzz_image.c $(CKPT_SRCS) common/buf.c common/err.c common/cgroup.c
	@echo "run: build/fuzz/fuzz_proto -max_total_time=60"
	@echo "run: build/fuzz/fuzz_image -max_total_time=60"

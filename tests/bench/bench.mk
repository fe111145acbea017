# tests/bench: the benchmark helpers (make bench runs tests/bench/run).
BENCH_TOOLS := $(B)/bin/timeit
BENCH_DEBS := openssh-server openssh-client

$(B)/bin/timeit: $(B)/obj/tests/bench/timeit.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# make fuzz: libFuzzer harnesses of the parsers (clang), not run by check.
.PHONY: fuzz
fuzz:
	@mkdir -p build/fuzz
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE -Icommon -fsanitize=fuzzer,address,undefined \
		-o build/fuzz/fuzz_proto tests/fuzz/fuzz_proto.c common/buf.c common/proto.c common/err.c
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE -Icommon -Inoded/ckpt -fsanitize=fuzzer,address,undefined \
		-o build/fuzz/fuzz_image tests/fuzz/fuzz_image.c $(CKPT_SRCS) common/buf.c common/err.c
	@echo "run: build/fuzz/fuzz_proto -max_total_time=60"
	@echo "run: build/fuzz/fuzz_image -max_total_time=60"

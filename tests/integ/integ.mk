# tests/integ/integ.mk: fragment of the top-level Makefile (included there).
#
# Integration tests: each tests/integ/NN-*.t is a TAP script (bash or perl)
# that starts its own local cluster of real noded processes in a private
# directory (contrib/localcluster, SSHELL_LC_DIR=/tmp/lc-tests-PID) and takes
# it down at exit, pass or fail.  They need root (namespaces) and the
# binaries of `make all`, and memhog (a job of a known size, from
# tests/bench); run one alone with `prove -v tests/integ/11-submit.t`.

INTEG_TESTS := $(sort $(wildcard tests/integ/*.t))
INTEG_BINS := $(B)/bin/noded $(B)/bin/sshell-shepherd $(B)/bin/sshell-reaper \
	$(B)/bin/sshell-mover $(B)/bin/sps $(B)/bin/skill $(B)/bin/snodes \
	$(B)/bin/ssubmit $(B)/bin/smigrate $(B)/bin/sshell \
	$(B)/bin/memhog

.PHONY: check-integ
check-integ: $(INTEG_BINS)
	prove $(if $(V),-v) $(INTEG_TESTS)

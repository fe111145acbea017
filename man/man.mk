# fragment: see top-level Makefile.
#
# The manual pages, in mdoc(7).  `make install' copies them to
# $(PREFIX)/share/man/man{1,5,8}; tests/integ/05-manpages.t checks that every
# page in man/ renders without a warning.  sckpt.1 is listed by the checkpoint
# engine's own fragment.

MAN1 += man/sps.1 man/skill.1 man/snodes.1 man/ssubmit.1 man/smigrate.1 \
	man/sshell.1
MAN5 += man/sshell.conf.5
MAN8 += man/noded.8

/*
 * sckpt: checkpoint a process tree to a file or a stream, and restart it.
 *
 *	sckpt dump -t PID -o FILE|- [--leave-running] [--freezer CGROUP]
 *	    [--precopy ROUNDS]
 *	sckpt restore -i FILE|- [-d] [--same-pid]
 *	sckpt info FILE|-
 *	sckpt check -t PID
 *
 * A thin front end on the checkpoint engine (noded/ckpt/ckpt.h); see
 * sckpt(1).  Messages for people go to stderr as "sckpt: what: why";
 * stdout carries only the restored root's pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "noded/ckpt/ckpt.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sckpt dump -t PID -o FILE|- [--leave-running] "
	    "[--freezer CGROUP]\n"
	    "                  [--precopy ROUNDS]\n"
	    "       sckpt restore -i FILE|- [-d] [--same-pid]\n"
	    "       sckpt info FILE|-\n"
	    "       sckpt check -t PID\n");
	exit(2);
}

static int
cmd_dump(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "leave-running", no_argument, NULL, 'L' },
		{ "freezer", required_argument, NULL, 'F' },
		{ "precopy", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct ckpt_dump_opts o;
	struct ckpt_stats st;
	struct ckpt_err e;
	const char *out = NULL;
	char *end;
	const struct timespec busy_wait = { 0, CKPT_BUSY_WAIT_MS * 1000000L };
	long rounds = 0, i;
	uint64_t bytes, pages;
	int ch, fd, tries, created = 0, r = 0;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "t:o:", lo, NULL)) != -1) {
		switch (ch) {
		case 't':
			o.pid = (pid_t)strtol(optarg, &end, 10);
			if (*end != '\0' || o.pid <= 0)
				usage();
			break;
		case 'o':
			out = optarg;
			break;
		case 'L':
			o.leave_running = 1;
			break;
		case 'F':
			o.freezer = optarg;
			break;
		case 'P':
			rounds = strtol(optarg, &end, 10);
			if (*end != '\0' || rounds < 1 || rounds > 100)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o.pid == 0 || out == NULL)
		usage();
	/* A failed dump removes the file only if it made it: never what was
	 * there before (-o /dev/null, a file of the user's). */
	if (strcmp(out, "-") == 0)
		fd = STDOUT_FILENO;
	else if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) != -1)
		created = 1;
	else if (errno == EEXIST)
		fd = open(out, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd == -1) {
		fprintf(stderr, "sckpt: %s: %s\n", out, strerror(errno));
		return 1;
	}
	o.out_fd = fd;
	memset(&e, 0, sizeof(e));
	/* The memory while the tree runs, then only what it wrote since. */
	if (rounds > 0)
		r = ckpt_precopy_begin(o.pid, &o.precopy, &e);
	for (i = 0; i < rounds && r == 0; i++) {
		r = ckpt_precopy_round(o.precopy, &o, &bytes, &pages, &e);
		if (r == 0 && getenv("SCKPT_STATS") != NULL)
			fprintf(stderr, "sckpt: pre-copy round %ld: %llu "
			    "pages, %llu bytes\n", i + 1,
			    (unsigned long long)pages,
			    (unsigned long long)bytes);
	}
	/* Busy (ckpt.h): try again a moment later, as sshell-mover does. */
	for (tries = 0; r == 0; tries++) {
		if ((r = ckpt_dump(&o, &st, &e)) != SS_ERR_BUSY ||
		    tries == CKPT_BUSY_TRIES)
			break;
		r = 0;
		nanosleep(&busy_wait, NULL);
	}
	ckpt_precopy_free(o.precopy);
	if (r == 0 && fd != STDOUT_FILENO && close(fd) == -1) {
		fprintf(stderr, "sckpt: %s: %s\n", out, strerror(errno));
		return 1;
	}
	if (r != 0) {
		if (fd != STDOUT_FILENO) {
			close(fd);
			if (created)
				(void)unlink(out);
		}
		fprintf(stderr, "sckpt: dump %d: %s\n", o.pid, e.msg);
		return 1;
	}
	if (getenv("SCKPT_STATS") != NULL)
		fprintf(stderr, "sckpt: dumped %u processes, %u threads, %llu "
		    "pages, %llu bytes, frozen %.3f ms\n", st.nprocs,
		    st.nthreads, (unsigned long long)st.pages,
		    (unsigned long long)st.image_bytes, st.frozen_ns / 1e6);
	return 0;
}

static int
cmd_restore(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "same-pid", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	struct ckpt_restore_opts o;
	struct ckpt_restored *rs;
	struct ckpt_stats st;
	struct ckpt_err e;
	const char *in = NULL;
	pid_t pid;
	int ch, fd, status, detach = 0;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "i:d", lo, NULL)) != -1) {
		switch (ch) {
		case 'i':
			in = optarg;
			break;
		case 'd':
			detach = 1;
			break;
		case 'S':
			o.same_pid = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || in == NULL)
		usage();
	o.stdio[0] = STDIN_FILENO;
	o.stdio[1] = STDOUT_FILENO;
	o.stdio[2] = STDERR_FILENO;
	if (strcmp(in, "-") == 0) {
		fd = STDIN_FILENO;
		o.stdio[0] = -1;	/* stdin is the image */
	} else if ((fd = open(in, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "sckpt: %s: %s\n", in, strerror(errno));
		return 1;
	}
	o.in_fd = fd;
	o.pidns_fd = -1;
	memset(&e, 0, sizeof(e));
	if (ckpt_restore(&o, &rs, &st, &e) != 0) {
		fprintf(stderr, "sckpt: restore %s: %s\n", in, e.msg);
		return 1;
	}
	pid = ckpt_restored_pid(rs);
	if (ckpt_restore_run(rs, &e) != 0) {
		fprintf(stderr, "sckpt: restore %s: %s\n", in, e.msg);
		return 1;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	printf("%d\n", (int)pid);
	fflush(stdout);
	if (getenv("SCKPT_STATS") != NULL)
		fprintf(stderr, "sckpt: restored %u processes, %u threads, "
		    "%llu pages, %llu bytes\n", st.nprocs, st.nthreads,
		    (unsigned long long)st.pages,
		    (unsigned long long)st.image_bytes);
	if (detach)
		return 0;
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "sckpt: wait %d: %s\n", (int)pid,
			    strerror(errno));
			return 1;
		}
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int
cmd_info(int argc, char **argv)
{
	struct ckpt_err e;
	int fd;

	if (argc != 2)
		usage();
	if (strcmp(argv[1], "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(argv[1], O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "sckpt: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(&e, 0, sizeof(e));
	if (ckpt_info(fd, stdout, &e) != 0) {
		fprintf(stderr, "sckpt: %s: %s\n", argv[1], e.msg);
		return 1;
	}
	return 0;
}

/* Whether PID's tree could be dumped, decided without stopping it. */
static int
cmd_check(int argc, char **argv)
{
	struct ckpt_err e;
	pid_t pid = 0;
	char *end;
	int ch;

	while ((ch = getopt(argc, argv, "t:")) != -1) {
		switch (ch) {
		case 't':
			pid = (pid_t)strtol(optarg, &end, 10);
			if (*end != '\0' || pid <= 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || pid == 0)
		usage();
	memset(&e, 0, sizeof(e));
	if (ckpt_check(pid, &e) != 0) {
		fprintf(stderr, "sckpt: check %d: %s\n", (int)pid, e.msg);
		return 1;
	}
	printf("ok\n");
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "dump") == 0)
		return cmd_dump(argc - 1, argv + 1);
	if (strcmp(argv[1], "restore") == 0)
		return cmd_restore(argc - 1, argv + 1);
	if (strcmp(argv[1], "info") == 0)
		return cmd_info(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	usage();
}

/*
 * holder: holds one resource the checkpoint engine must refuse, creates
 * argv[2].ready, then sleeps until killed.  The test checks that a dump
 * refuses, names the resource, and leaves this process running, and that
 * sckpt check says the same without ever stopping it.  "none" holds
 * nothing (a process that can be dumped).
 */
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char path[4096];
	const char *m;
	int fd, id;

	if (argc != 3)
		return 2;
	m = argv[1];
	if (strcmp(m, "socket") == 0)
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
	else if (strcmp(m, "eventfd") == 0)
		fd = eventfd(0, 0);
	else if (strcmp(m, "timerfd") == 0)
		fd = timerfd_create(CLOCK_MONOTONIC, 0);
	else if (strcmp(m, "signalfd") == 0) {
		sigset_t s;

		sigemptyset(&s);
		sigaddset(&s, SIGUSR1);
		fd = signalfd(-1, &s, 0);
	} else if (strcmp(m, "epoll") == 0)
		fd = epoll_create1(0);
	else if (strcmp(m, "inotify") == 0)
		fd = inotify_init1(0);
	else if (strcmp(m, "deleted") == 0) {
		snprintf(path, sizeof(path), "%s.del", argv[2]);
		fd = open(path, O_RDWR | O_CREAT, 0600);
		unlink(path);
	} else if (strcmp(m, "sysvshm") == 0) {
		id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		fd = shmat(id, NULL, 0) == (void *)-1 ? -1 : 0;
		shmctl(id, IPC_RMID, NULL);
	} else if (strcmp(m, "memfd") == 0) {
		fd = memfd_create("x", 0);
		if (fd >= 0 && (ftruncate(fd, 4096) == -1 || mmap(NULL, 4096,
		    PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED))
			fd = -1;
		if (fd >= 0)
			close(fd);
	} else if (strcmp(m, "posixtimer") == 0) {
		timer_t t;

		fd = timer_create(CLOCK_MONOTONIC, NULL, &t);
	} else if (strcmp(m, "seccomp") == 0) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog p = { 1, f };

		fd = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (fd == 0)
			fd = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p);
	} else if (strcmp(m, "none") == 0)
		fd = 0;
	else if (strcmp(m, "ptmx") == 0)
		fd = open("/dev/ptmx", O_RDWR | O_NOCTTY);
	else if (strcmp(m, "iouring") == 0) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		fd = (int)syscall(SYS_io_uring_setup, 4, &p);
	} else if (strcmp(m, "traced") == 0) {
		/* A child that traces us (and is part of the tree). */
		pid_t me = getpid(), c;
		int p[2];
		char x;

		if (pipe(p) == -1)
			return 2;
		if ((c = fork()) == 0) {
			if (ptrace(PTRACE_SEIZE, me, NULL, NULL) == -1)
				_exit(2);
			(void)write(p[1], "x", 1);
			for (;;)
				pause();
		}
		fd = c < 0 || read(p[0], &x, 1) != 1 ? -1 : 0;
	} else
		return 2;
	if (fd < 0) {
		perror(m);
		return 2;
	}
	snprintf(path, sizeof(path), "%s.ready", argv[2]);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) < 0)
		return 2;
	close(fd);
	for (;;)
		pause();
}

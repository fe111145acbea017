/*
 * threads: a zdtm-style test of a multi-threaded process.  Four threads
 * add to a mutex-protected counter and to a thread-local one; on SIGUSR2
 * (after restore) main stops them, joins them (which needs
 * clear_child_tid and the futex wake to work), and checks that the
 * thread-local counts add up to the shared one.  Exits 0 on success.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NT 4

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long total;
static volatile int stop;
static __thread long mine;
static long results[NT];

static void *
worker(void *arg)
{
	long i = (long)arg;
	char name[16];

	snprintf(name, sizeof(name), "worker%ld", i);
	pthread_setname_np(pthread_self(), name);
	while (!stop) {
		pthread_mutex_lock(&mu);
		total++;
		mine++;
		pthread_mutex_unlock(&mu);
		usleep(100);
	}
	results[i] = mine;
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t[NT];
	sigset_t set;
	char path[4096];
	long i, sum = 0;
	int sig, fd;

	if (argc != 2)
		return 2;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < NT; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
			return 2;
	snprintf(path, sizeof(path), "%s.ready", argv[1]);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) < 0)
		return 2;
	close(fd);
	if (sigwait(&set, &sig) != 0)
		return 2;
	stop = 1;
	for (i = 0; i < NT; i++)
		if (pthread_join(t[i], NULL) != 0)
			return 1;
	for (i = 0; i < NT; i++) {
		if (results[i] == 0) {
			fprintf(stderr, "thread %ld did nothing\n", i);
			return 1;
		}
		sum += results[i];
	}
	if (sum != total) {
		fprintf(stderr, "sum %ld != total %ld\n", sum, total);
		return 1;
	}
	return 0;
}

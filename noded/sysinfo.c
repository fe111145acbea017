/*
 * sysinfo.c: what noded reads of its own node in /proc: runnable tasks
 * (noded's load figure, counted in the node's own /proc, so that the
 * nodes of a local cluster each see their own), memory, and per-job
 * figures summed over the job's session in one pass over /proc.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noded.h"

/* Reads /proc/PID/stat fields we need; 0 on success. */
static int
read_stat(const char *pid, char *state, pid_t *sid, uint64_t *ticks,
    uint64_t *start, uint64_t *rss_pages)
{
	char path[700], line[1024], *p;
	unsigned long long ut, st, startt;
	long rss;
	int sess;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	if ((p = strrchr(line, ')')) == NULL)
		return -1;
	/* Fields from 3: state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime cutime cstime priority nice
	 * num_threads itrealvalue starttime vsize rss */
	if (sscanf(p + 1, " %c %*d %*d %d %*d %*d %*u %*u %*u %*u %*u %llu %llu"
	    " %*d %*d %*d %*d %*d %*d %llu %*u %ld", state, &sess, &ut, &st,
	    &startt, &rss) != 6)
		return -1;
	*sid = sess;
	*ticks = ut + st;
	*start = startt;
	*rss_pages = rss > 0 ? (uint64_t)rss : 0;
	return 0;
}

double
sys_runnable(void)
{
	struct dirent *de;
	DIR *d;
	char state;
	pid_t sid;
	uint64_t t, s, r;
	int n = 0;
	char path[300];
	DIR *td;
	struct dirent *te;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		/* Threads count as tasks, as in the kernel's load. */
		snprintf(path, sizeof(path), "/proc/%s/task", de->d_name);
		if ((td = opendir(path)) == NULL)
			continue;
		while ((te = readdir(td)) != NULL) {
			char tp[600];

			if (!isdigit((unsigned char)te->d_name[0]))
				continue;
			snprintf(tp, sizeof(tp), "%s/task/%s", de->d_name,
			    te->d_name);
			if (read_stat(tp, &state, &sid, &t, &s, &r) == 0 &&
			    state == 'R')
				n++;
		}
		closedir(td);
	}
	closedir(d);
	/* This very scan is one runnable task: don't count noded itself. */
	return n > 0 ? n - 1 : 0;
}

static uint64_t
meminfo(const char *key)
{
	char line[256];
	unsigned long long v = 0;
	size_t kl = strlen(key);
	FILE *f;

	if ((f = fopen("/proc/meminfo", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			sscanf(line + kl + 1, "%llu", &v);
			break;
		}
	}
	fclose(f);
	return v;
}

uint64_t
sys_mem_total_kb(void)
{
	return meminfo("MemTotal");
}

uint64_t
sys_mem_avail_kb(void)
{
	return meminfo("MemAvailable");
}

unsigned
sys_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

void
sys_jobstats(const pid_t *pids, size_t n, struct jobstat *st)
{
	struct dirent *de;
	long page_kb = sysconf(_SC_PAGESIZE) / 1024;
	uint64_t ticks, start, rss;
	char state;
	pid_t sid, pid;
	size_t i;
	DIR *d;

	memset(st, 0, n * sizeof(*st));
	for (i = 0; i < n; i++)
		st[i].state = '?';
	if (n == 0 || (d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (read_stat(de->d_name, &state, &sid, &ticks, &start,
		    &rss) != 0)
			continue;
		pid = atoi(de->d_name);
		/* Linear search is fine for the hundreds of jobs a node runs;
		 * the pids are few compared with the cost of reading /proc. */
		for (i = 0; i < n; i++) {
			if (pids[i] != sid)
				continue;
			st[i].rss_kb += rss * page_kb;
			st[i].ticks += ticks;
			if (pid == pids[i]) {
				st[i].state = state;
				st[i].start_ticks = start;
			}
			break;
		}
	}
	closedir(d);
}

/*
 * task.c: the process-wide state that is not memory, files or signals:
 * ids (pid, parent, process group, session), credentials, cwd, umask,
 * rlimits, personality, no_new_privs, capability sets, comm and the exe
 * link; and whether the process was stopped (SIGSTOP) at the dump.
 *
 * Refusals made here (ck_task_refuse, shared by the dump and
 * ckpt_check): a zombie, POSIX timers, a deleted program.
 *
 * Privileges (ck_task_check, before anything is created): an image never
 * restores with more privilege than the person restoring it has.  A
 * restorer who is not root must be every uid and gid of the image, have
 * the same supplementary groups, and hard rlimits above its own are
 * refused for everyone who lacks CAP_SYS_RESOURCE, as are capabilities
 * the restorer does not have itself.  Credentials are set
 * last (ck_task_restore_creds), in every thread, after everything that
 * needs privilege; until then the new processes run as the restorer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ckpt-int.h"

static const char *cap_names[5] = { "CapInh:", "CapPrm:", "CapEff:",
    "CapBnd:", "CapAmb:" };

/* A Cap*: line of /proc/PID/status into caps[] (in cap_names' order). */
static void
cap_line(const char *line, uint64_t caps[5])
{
	int k;

	for (k = 0; k < 5; k++)
		if (strncmp(line, cap_names[k], 7) == 0)
			caps[k] = strtoull(line + 7, NULL, 16);
}

static int
read_link(pid_t pid, const char *what, char **out, struct ckpt_err *e)
{
	char path[64], buf[CK_PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	if ((n = readlink(path, buf, sizeof(buf) - 1)) == -1)
		return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	buf[n] = '\0';
	if ((*out = strdup(buf)) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	return 0;
}

int
ck_stat_read(pid_t pid, char *statep, uint64_t f[CK_STAT_FIELDS + 1])
{
	char path[64], *data, *s, *end;
	int k;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (ck_read_file(path, &data, NULL) != 0)
		return -1;
	memset(f, 0, (CK_STAT_FIELDS + 1) * sizeof(f[0]));
	/* The name (field 2) may hold anything: fields 3.. follow its
	 * last ')'. */
	s = strrchr(data, ')');
	*statep = s != NULL && s[1] == ' ' ? s[2] : '?';
	k = 3;
	if (*statep != '?')
		for (s += 3; k < CK_STAT_FIELDS; k++) {
			f[k + 1] = strtoull(s, &end, 10);
			if (end == s)
				break;
			s = end;
		}
	free(data);
	return k;
}

/* pid's state letter from /proc/PID/stat ('?' if unreadable there);
 * -1 with errno if the file cannot be read. */
static int
read_state(pid_t pid, char *statep)
{
	uint64_t f[CK_STAT_FIELDS + 1];

	return ck_stat_read(pid, statep, f) < 0 ? -1 : 0;
}

/* 1 if pid is gone, a zombie, or on its way out (PF_EXITING) now. */
static int
ended_now(pid_t pid)
{
	uint64_t f[CK_STAT_FIELDS + 1];
	char st;

	if (ck_stat_read(pid, &st, f) < 0 || st == 'Z' || st == 'X')
		return 1;
	return (f[9] & 0x4) != 0;	/* field 9: flags */
}

/*
 * The rules a live process must pass, seen from /proc without stopping
 * it: not a zombie (nor a thread group whose leader exited: its leader
 * shows as one), no POSIX timers, its program not deleted.  *statep, if
 * not NULL, gets its state letter (T: group-stopped).  The dump
 * runs it on each process it meets before seizing it, ckpt_check() on
 * each process of the tree.
 */
int
ck_task_refuse(pid_t pid, char *statep, struct ckpt_err *e)
{
	char path[64], *data, *exe, st;
	size_t len;
	int r;

	if (read_state(pid, &st) != 0)
		return ck_fail(e, SS_ERR_NOT_FOUND, "process %d: %s", pid,
		    strerror(errno));
	if (statep != NULL)
		*statep = st;
	if (st == 'Z' || st == 'X')
		return ck_fail(e, SS_ERR_BUSY, "process %d: a "
		    "zombie or a process whose leader exited", pid);
	snprintf(path, sizeof(path), "/proc/%d/timers", pid);
	if (ck_read_file(path, &data, &len) == 0) {
		free(data);
		if (len > 0)
			return ck_fail(e, SS_ERR_UNSUPPORTED, "process %d: "
			    "POSIX timers cannot be checkpointed", pid);
	}
	if ((r = read_link(pid, "exe", &exe, e)) != 0) {
		/* Ended since its stat was read (its exe goes first). */
		if (errno == ENOENT && ended_now(pid))
			return ck_fail(e, SS_ERR_BUSY, "process %d ended while "
			    "it was being checked", pid);
		return r;
	}
	len = strlen(exe);
	r = len > 10 && strcmp(exe + len - 10, " (deleted)") == 0;
	if (r)
		r = ck_fail(e, SS_ERR_UNSUPPORTED, "process %d: its "
		    "program %s was deleted", pid, exe);
	free(exe);
	return r;
}

int
ck_task_zombie(pid_t pid, uint32_t *status)
{
	uint64_t f[CK_STAT_FIELDS + 1];
	char path[64];
	struct dirent *de;
	DIR *d;
	char st;
	int other = 0;

	/* Field 52, the last: exit_code, a wait status. */
	if (ck_stat_read(pid, &st, f) < 52 || st != 'Z')
		return 0;
	/* A leader that exited while its threads run shows as Z too: its
	 * task directory still lists them. */
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' &&
		    strtol(de->d_name, NULL, 10) != pid)
			other = 1;
	closedir(d);
	if (other)
		return 0;
	*status = (uint32_t)f[52];
	return 1;
}

/* The numbers of a "NSpid:"-style line (field with its colon) of
 * /proc/PID[/task/TID]/status, or -1. */
static int
ns_field(pid_t pid, pid_t tid, const char *field, pid_t *v, int max)
{
	char path[96], line[512], *s, *end;
	size_t fl = strlen(field);
	FILE *f;
	int n = -1;

	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid,
		    tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, fl) != 0)
			continue;
		for (n = 0, s = line + fl; n < max; n++) {
			long x = strtol(s, &end, 10);

			if (end == s)
				break;
			v[n] = (pid_t)x;
			s = end;
		}
		break;
	}
	fclose(f);
	return n;
}

int
ck_ns_level(pid_t pid)
{
	pid_t v[32];
	int n = ns_field(pid, 0, "NSpid:", v, 32);

	return n > 0 ? n - 1 : 0;
}

pid_t
ck_ns_id(pid_t pid, pid_t tid, const char *field, int level)
{
	pid_t v[32];
	int n = ns_field(pid, tid, field, v, 32);

	return n > level ? v[level] : 0;
}

int
ck_task_ns_ids(struct ck_image *im, struct ckpt_err *e)
{
	int level = ck_ns_level(im->procs[0].pid);
	struct ck_proc *p;
	uint32_t i, j;

	for (i = 0; i < im->nproc; i++) {
		p = &im->procs[i];
		p->vpid = ck_ns_id(p->pid, 0, "NSpid:", level);
		p->vpgid = ck_ns_id(p->pid, 0, "NSpgid:", level);
		p->vsid = ck_ns_id(p->pid, 0, "NSsid:", level);
		/* Group or session led from outside the namespace: 0 there,
		 * which a restore reads as "its own". */
		if (p->vpid == 0)
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: its pid in "
			    "the tree's namespace: %s", p->pid, strerror(errno));
		for (j = 0; j < p->nthr; j++)
			if ((p->thr[j].vtid = ck_ns_id(p->pid, p->thr[j].tid,
			    "NSpid:", level)) == 0)
				return ck_fail(e, SS_ERR_SYSTEM, "thread %d: its "
				    "tid in the tree's namespace: %s",
				    p->thr[j].tid, strerror(errno));
	}
	for (i = 0; i < im->nproc; i++) {
		p = &im->procs[i];
		p->vppid = p->parent >= 0 ? im->procs[p->parent].vpid :
		    level == 0 ? p->ppid : 0;
	}
	return 0;
}

/*
 * From /proc/PID/status: credentials, umask, no_new_privs, parent,
 * capabilities, groups; from /proc/PID/stat: process group and session.
 */
static int
read_ids(struct ck_proc *p, struct ckpt_err *e)
{
	char path[64], line[1024], state;
	uint64_t sf[CK_STAT_FIELDS + 1];
	FILE *f;
	int k;

	snprintf(path, sizeof(path), "/proc/%d/status", p->pid);
	if ((f = fopen(path, "re")) == NULL)
		return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Uid:", 4) == 0)
			sscanf(line + 4, "%u %u %u", &p->uid[0], &p->uid[1],
			    &p->uid[2]);
		else if (strncmp(line, "Gid:", 4) == 0)
			sscanf(line + 4, "%u %u %u", &p->gid[0], &p->gid[1],
			    &p->gid[2]);
		else if (strncmp(line, "Umask:", 6) == 0)
			p->umask = strtoul(line + 6, NULL, 8);
		else if (strncmp(line, "NoNewPrivs:", 11) == 0)
			p->no_new_privs = strtoul(line + 11, NULL, 10);
		else if (strncmp(line, "PPid:", 5) == 0)
			p->ppid = strtol(line + 5, NULL, 10);
		else if (strncmp(line, "Cap", 3) == 0)
			cap_line(line, p->caps);
		else if (strncmp(line, "Groups:", 7) == 0) {
			char *tok, *save;

			for (tok = strtok_r(line + 7, " \t\n", &save);
			    tok != NULL; tok = strtok_r(NULL, " \t\n", &save)) {
				uint32_t *ng = realloc(p->groups,
				    (p->ngroups + 1) * sizeof(*ng));

				if (ng == NULL) {
					fclose(f);
					return ck_fail(e, SS_ERR_ALLOC,
					    "out of memory");
				}
				p->groups = ng;
				ng[p->ngroups++] = strtoul(tok, NULL, 10);
			}
		}
	}
	fclose(f);
	/* Fields 5 and 6: process group, session. */
	if ((k = ck_stat_read(p->pid, &state, sf)) < 0)
		return ck_fail(e, SS_ERR_SYSTEM, "/proc/%d/stat: %s", p->pid,
		    strerror(errno));
	if (k < 6)
		return ck_fail(e, SS_ERR_BAD, "/proc/%d/stat: cannot parse",
		    p->pid);
	p->pgid = (pid_t)sf[5];
	p->sid = (pid_t)sf[6];
	return 0;
}

/* Its name (/proc/PID/comm, a zombie's too). */
static int
read_comm(struct ck_proc *p, struct ckpt_err *e)
{
	char path[64], *data;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/comm", p->pid);
	if (ck_read_file(path, &data, &len) != 0)
		return ck_fail(e, SS_ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	if (len > 0 && data[len - 1] == '\n')
		data[len - 1] = '\0';
	snprintf(p->comm, sizeof(p->comm), "%s", data);
	free(data);
	return 0;
}

/* What a zombie has left: its ids (and credentials, for the checks). */
int
ck_task_collect_zombie(struct ck_proc *p, struct ckpt_err *e)
{
	int r, i;

	if ((r = read_ids(p, e)) != 0 || (r = read_comm(p, e)) != 0)
		return r;
	/* Its limits do not matter; ours, so that no check trips on them. */
	for (i = 0; i < CK_NRLIMIT; i++)
		(void)getrlimit(i, &p->rlim[i]);
	if ((p->cwd = strdup("/")) == NULL || (p->exe = strdup("")) == NULL)
		return ck_fail(e, SS_ERR_ALLOC, "out of memory");
	return 0;
}

int
ck_task_collect(struct ck_proc *p, struct ckpt_err *e)
{
	char path[64], *data;
	int r, i;

	if ((r = read_ids(p, e)) != 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/personality", p->pid);
	if (ck_read_file(path, &data, NULL) == 0) {
		p->personality = strtoul(data, NULL, 16);
		free(data);
	}
	if ((r = read_comm(p, e)) != 0)
		return r;
	if ((r = read_link(p->pid, "cwd", &p->cwd, e)) != 0 ||
	    (r = read_link(p->pid, "exe", &p->exe, e)) != 0) {
		/* Seized on its way out (a child of a loop, ending): its
		 * links are gone.  Busy: the mover tries again. */
		if (errno == ENOENT && ended_now(p->pid))
			return ck_fail(e, SS_ERR_BUSY, "process %d ended while "
			    "it was being frozen", p->pid);
		return r;
	}
	for (i = 0; i < CK_NRLIMIT; i++)
		if (prlimit(p->pid, i, NULL, &p->rlim[i]) == -1)
			return ck_fail(e, SS_ERR_SYSTEM, "process %d: "
			    "prlimit: %s", p->pid, strerror(errno));
	p->dumpable = 1;
	return 0;
}

int
ck_task_encode(struct buf *b, const struct ck_proc *p)
{
	uint32_t i;
	int r;

	/* The ids as the tree's namespace sees them (ck_task_ns_ids). */
	if ((r = buf_put_u32(b, p->vpid)) != 0 ||
	    (r = buf_put_u32(b, p->vppid)) != 0 ||
	    (r = buf_put_u32(b, p->vpgid)) != 0 ||
	    (r = buf_put_u32(b, p->vsid)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)p->parent)) != 0)
		return r;
	for (i = 0; i < 3; i++)
		if ((r = buf_put_u32(b, p->uid[i])) != 0 ||
		    (r = buf_put_u32(b, p->gid[i])) != 0)
			return r;
	if ((r = buf_put_u32(b, p->ngroups)) != 0)
		return r;
	for (i = 0; i < p->ngroups; i++)
		if ((r = buf_put_u32(b, p->groups[i])) != 0)
			return r;
	if ((r = buf_put_u32(b, p->umask)) != 0 ||
	    (r = buf_put_u32(b, p->personality)) != 0 ||
	    (r = buf_put_u32(b, p->no_new_privs)) != 0 ||
	    (r = buf_put_u32(b, p->dumpable)) != 0 ||
	    (r = buf_put_u32(b, p->stopped)) != 0 ||
	    (r = buf_put_u64(b, p->caps[0])) != 0 ||
	    (r = buf_put_u64(b, p->caps[1])) != 0 ||
	    (r = buf_put_u64(b, p->caps[2])) != 0 ||
	    (r = buf_put_u64(b, p->caps[3])) != 0 ||
	    (r = buf_put_u64(b, p->caps[4])) != 0 ||
	    (r = buf_put_cstring(b, p->cwd)) != 0 ||
	    (r = buf_put_cstring(b, p->exe)) != 0 ||
	    (r = buf_put_cstring(b, p->comm)) != 0 ||
	    (r = buf_put_u32(b, p->nthr)) != 0)
		return r;
	for (i = 0; i < CK_NRLIMIT; i++)
		if ((r = buf_put_u64(b, p->rlim[i].rlim_cur)) != 0 ||
		    (r = buf_put_u64(b, p->rlim[i].rlim_max)) != 0)
			return r;
	if ((r = ck_sig_encode(b, p)) != 0 ||
	    (r = buf_put_u32(b, p->zombie)) != 0)
		return r;
	return buf_put_u32(b, p->exit_status);
}

int
ck_task_decode(struct buf *b, struct ck_proc *p)
{
	uint32_t v[5], i;
	char *comm = NULL;
	int r;

	for (i = 0; i < 5; i++)
		if ((r = buf_get_u32(b, &v[i])) != 0)
			return r;
	p->pid = v[0];
	p->ppid = v[1];
	p->pgid = v[2];
	p->sid = v[3];
	p->parent = (int32_t)v[4];
	for (i = 0; i < 3; i++)
		if ((r = buf_get_u32(b, &p->uid[i])) != 0 ||
		    (r = buf_get_u32(b, &p->gid[i])) != 0)
			return r;
	if ((r = buf_get_u32(b, &p->ngroups)) != 0)
		return r;
	if (p->ngroups > 65536)
		return SS_ERR_TOO_LONG;
	if ((p->groups = calloc(p->ngroups + 1, sizeof(uint32_t))) == NULL)
		return SS_ERR_ALLOC;
	for (i = 0; i < p->ngroups; i++)
		if ((r = buf_get_u32(b, &p->groups[i])) != 0)
			return r;
	if ((r = buf_get_u32(b, &p->umask)) != 0 ||
	    (r = buf_get_u32(b, &p->personality)) != 0 ||
	    (r = buf_get_u32(b, &p->no_new_privs)) != 0 ||
	    (r = buf_get_u32(b, &p->dumpable)) != 0 ||
	    (r = buf_get_u32(b, &p->stopped)) != 0 ||
	    (r = buf_get_u64(b, &p->caps[0])) != 0 ||
	    (r = buf_get_u64(b, &p->caps[1])) != 0 ||
	    (r = buf_get_u64(b, &p->caps[2])) != 0 ||
	    (r = buf_get_u64(b, &p->caps[3])) != 0 ||
	    (r = buf_get_u64(b, &p->caps[4])) != 0 ||
	    (r = ck_get_str(b, &p->cwd)) != 0 ||
	    (r = ck_get_str(b, &p->exe)) != 0 ||
	    (r = buf_get_cstring(b, 16, &comm)) != 0)
		return r;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	free(comm);
	if ((r = buf_get_u32(b, &p->nthr)) != 0)
		return r;
	if (p->nthr > CK_MAX_THREADS)
		return SS_ERR_BAD;
	for (i = 0; i < CK_NRLIMIT; i++) {
		uint64_t c, m;

		if ((r = buf_get_u64(b, &c)) != 0 ||
		    (r = buf_get_u64(b, &m)) != 0)
			return r;
		p->rlim[i].rlim_cur = c;
		p->rlim[i].rlim_max = m;
	}
	if ((r = ck_sig_decode(b, p)) != 0 ||
	    (r = buf_get_u32(b, &p->zombie)) != 0 ||
	    (r = buf_get_u32(b, &p->exit_status)) != 0)
		return r;
	/* Threads, or else a zombie (which has none). */
	if (p->zombie > 1 || (p->nthr == 0) != (p->zombie == 1))
		return SS_ERR_BAD;
	return 0;
}

/* The restorer's own capability sets (all 0 if unreadable). */
static void
my_caps(uint64_t caps[5])
{
	char line[256];
	FILE *f;

	memset(caps, 0, 5 * sizeof(caps[0]));
	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Cap", 3) == 0)
			cap_line(line, caps);
	fclose(f);
}

/* Capabilities can be dropped, never given (permitted, effective, bound). */
static int
caps_check(const struct ck_proc *p, const uint64_t mine[5],
    struct ckpt_err *e)
{
	int i;

	for (i = 1; i <= 3; i++)
		if (p->caps[i] & ~mine[i])
			return ck_fail(e, SS_ERR_PERM, "process %d: capabilities "
			    "%#llx (%s) beyond yours", p->pid,
			    (unsigned long long)(p->caps[i] & ~mine[i]),
			    cap_names[i]);
	return 0;
}

int
ck_task_check(const struct ck_image *im, struct ckpt_err *e)
{
	const struct ck_proc *p;
	struct rlimit mine;
	gid_t groups[1024];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	uint64_t mine_caps[5];
	int ng, i, k, res, r;
	uint32_t j, n;

	my_caps(mine_caps);
	res = (mine_caps[2] >> 24) & 1;		/* CAP_SYS_RESOURCE */
	ng = getgroups(1024, groups);
	for (j = 0; j < im->nproc; j++) {
		p = &im->procs[j];
		for (i = 0; i < CK_NRLIMIT && !res; i++) {
			if (getrlimit(i, &mine) == -1)
				continue;
			if (p->rlim[i].rlim_max > mine.rlim_max)
				return ck_fail(e, SS_ERR_PERM, "process %d: "
				    "hard limit %d (%llu) above yours (%llu)",
				    p->pid, i,
				    (unsigned long long)p->rlim[i].rlim_max,
				    (unsigned long long)mine.rlim_max);
		}
		if (uid == 0) {
			if ((r = caps_check(p, mine_caps, e)) != 0)
				return r;
			continue;
		}
		for (i = 0; i < 3; i++)
			if (p->uid[i] != uid || p->gid[i] != gid)
				return ck_fail(e, SS_ERR_PERM, "process %d ran "
				    "as uid %u gid %u; only root can restore "
				    "it", p->pid, p->uid[1], p->gid[1]);
		for (n = 0; n < p->ngroups; n++) {
			for (k = 0; k < ng; k++)
				if ((gid_t)p->groups[n] == groups[k])
					break;
			if (k == ng)
				return ck_fail(e, SS_ERR_PERM, "process %d: "
				    "group %u is not yours", p->pid,
				    p->groups[n]);
		}
		if ((r = caps_check(p, mine_caps, e)) != 0)
			return r;
	}
	return 0;
}

/* In the new process (before its memory is replaced): 0 or -errno. */
int
ck_task_prep(const struct ck_proc *p)
{
	int i;

	umask(p->umask);
	if (chdir(p->cwd) == -1)
		return -errno;
	if (personality(p->personality) == -1)
		return -errno;
	for (i = 0; i < CK_NRLIMIT; i++)
		if (setrlimit(i, &p->rlim[i]) == -1)
			return -errno;
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -errno;
	return 0;
}

static int
run(struct ck_proc *p, pid_t tid, long nr, uint64_t a0, uint64_t a1,
    uint64_t a2, const char *what, struct ckpt_err *e)
{
	uint64_t a[5] = { a0, a1, a2, 0, 0 };
	long ret;

	if (ck_inject_new(tid, p->sys_ip, &p->thr[0].regs, nr, a, 5, &ret) !=
	    0)
		return ck_fail(e, SS_ERR_SYSTEM, "thread %d: %s: %s", tid, what,
		    strerror(errno));
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return ck_fail(e, SS_ERR_SYSTEM, "thread %d: %s: %s", tid,
		    what, strerror(errno));
	}
	return 0;
}

/*
 * The capability sets of thread t, as its credentials are set: the
 * bounding set can only shrink (what the image lacks is dropped while the
 * thread still has CAP_SETPCAP), PR_SET_KEEPCAPS keeps the permitted set
 * across setresuid, capset puts the three sets, and the ambient set,
 * which needs its capabilities permitted and inheritable, comes last.
 * Called with what(0) before setresuid, what(1) after.
 */
static int
caps_restore(struct ck_proc *p, pid_t t, int after, const uint64_t mine[5],
    struct ckpt_err *e)
{
	struct {
		uint32_t version;
		int32_t pid;
		uint32_t d[6];	/* eff, prm, inh: low words, then high */
	} c;
	struct iovec l, rm;
	int k, r;

	if (!after) {
		for (k = 0; k < 64; k++)
			if (((mine[3] & ~p->caps[3]) >> k) & 1 &&
			    (r = run(p, t, SYS_prctl, PR_CAPBSET_DROP, k, 0,
			    "prctl(PR_CAPBSET_DROP)", e)) != 0)
				return r;
		return run(p, t, SYS_prctl, PR_SET_KEEPCAPS, 1, 0,
		    "prctl(PR_SET_KEEPCAPS)", e);
	}
	memset(&c, 0, sizeof(c));
	c.version = 0x20080522;		/* _LINUX_CAPABILITY_VERSION_3 */
	for (k = 0; k < 2; k++) {
		c.d[3 * k] = (uint32_t)(p->caps[2] >> (32 * k));
		c.d[3 * k + 1] = (uint32_t)(p->caps[1] >> (32 * k));
		c.d[3 * k + 2] = (uint32_t)(p->caps[0] >> (32 * k));
	}
	l.iov_base = &c;
	l.iov_len = sizeof(c);
	rm.iov_base = (void *)(p->scratch + 3072);
	rm.iov_len = sizeof(c);
	if (process_vm_writev(p->npid, &l, 1, &rm, 1, 0) != sizeof(c))
		return ck_fail(e, SS_ERR_SYSTEM, "scratch: %s",
		    strerror(errno));
	if ((r = run(p, t, SYS_capset, p->scratch + 3072, p->scratch + 3080,
	    0, "capset", e)) != 0)
		return r;
	for (k = 0; k < 64; k++)
		if ((p->caps[4] >> k) & 1 && (r = run(p, t, SYS_prctl,
		    PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, k,
		    "prctl(PR_CAP_AMBIENT)", e)) != 0)
			return r;
	return run(p, t, SYS_prctl, PR_SET_KEEPCAPS, 0, 0,
	    "prctl(PR_SET_KEEPCAPS)", e);
}

int
ck_task_restore_creds(struct ck_proc *p, struct ckpt_err *e)
{
	struct iovec l, rm;
	uint64_t mine[5];
	uint32_t i;
	int r;

	if (geteuid() != 0)
		return 0;	/* checked: the image has our credentials */
	my_caps(mine);
	if (p->ngroups > 0) {
		l.iov_base = p->groups;
		l.iov_len = p->ngroups * sizeof(uint32_t);
		rm.iov_base = (void *)(p->scratch + 2048);
		rm.iov_len = l.iov_len;
		if (l.iov_len > 2048 || process_vm_writev(p->npid, &l, 1, &rm,
		    1, 0) != (ssize_t)l.iov_len)
			return ck_fail(e, SS_ERR_SYSTEM, "scratch: %s",
			    strerror(errno));
	}
	for (i = 0; i < p->nthr; i++) {
		pid_t t = p->thr[i].ntid;

		if ((r = caps_restore(p, t, 0, mine, e)) != 0 ||
		    (r = run(p, t, SYS_setgroups, p->ngroups, p->scratch + 2048,
		    0, "setgroups", e)) != 0 ||
		    (r = run(p, t, SYS_setresgid, p->gid[0], p->gid[1],
		    p->gid[2], "setresgid", e)) != 0 ||
		    (r = run(p, t, SYS_setresuid, p->uid[0], p->uid[1],
		    p->uid[2], "setresuid", e)) != 0 ||
		    (r = caps_restore(p, t, 1, mine, e)) != 0)
			return r;
	}
	return run(p, p->thr[0].ntid, SYS_prctl, PR_SET_DUMPABLE, p->dumpable,
	    0, "prctl(PR_SET_DUMPABLE)", e);
}

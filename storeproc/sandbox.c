/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sandbox.c - confine the store process (see sandbox.h for the order).
 *
 * The store process parses every byte a guest or client writes, so it
 * must have nothing worth stealing when a bug in that parsing is found:
 * no root, no capability, no filesystem, no way to start a program, and
 * only the syscalls its main loop makes.  Every step is checked after it
 * is taken and a failure is fatal: a store process that could not confine
 * itself exits 1 and the broker logs it, it never serves unconfined.
 *
 * A syscall the profile does not list raises SIGSYS (SCMP_ACT_TRAP, not
 * KILL_PROCESS, because a killed process cannot say which syscall it
 * was).  The handler here writes the syscall's name to stderr (the
 * broker's log in the foreground) and, when logging to syslog, to a
 * socket of its own connected to /dev/log, then makes the same syscall
 * again with the handler reset, so the process dies by SIGSYS and the
 * broker logs that and restarts it.  The blocked syscall never runs.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cap-ng.h>
#include <dirent.h>

#include "log.h"
#include "profile.h"

#define IDENT "lixs-storeproc"
#define SYSLOG_PATH "/dev/log"
#define NAMES_NR 1024        /* syscall numbers the report can name */
#define NAMES_BYTES 16384
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1        /* si_code of a seccomp SIGSYS (asm-generic/siginfo.h) */
#endif

/*
 * What the SIGSYS handler needs, prepared before the filter is loaded
 * (a handler may call neither malloc nor libseccomp).  Written once by
 * sandbox_enter(), read only by the handler: the signal state the house
 * rules allow outside the process's context struct.
 */
static struct {
	bool confined;               /* the filter is loaded */
	int report_fd;               /* datagram socket to syslog, or -1 */
	int pid;
	uint16_t off[NAMES_NR];      /* offset + 1 into names[]; 0: unknown */
	char names[NAMES_BYTES];
} sigsys = { .report_fd = -1 };

#if defined(__SANITIZE_ADDRESS__)
#define LIXS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIXS_ASAN 1
#endif
#endif

#ifdef LIXS_ASAN
/*
 * LeakSanitizer's exit-time check stops the world with ptrace and reads
 * /proc/self: impossible, by design, in here (not dumpable, empty root,
 * no ptrace in the filter).  The runtime asks this hook before checking;
 * once sandboxed the answer is "off" (the store code's leaks are still
 * checked by the unit tests, which run unconfined).
 */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return sigsys.confined;
}
#endif

static int step_failed(const char *step, int err)
{
	log_err("sandbox: %s: %s; not serving unconfined", step, strerror(err));
	return 1;
}

/* --- the SIGSYS report (async-signal-safe from here to on_sigsys) --------- */

static size_t put_str(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at < cap)
		buf[at++] = *s++;
	return at;
}

static size_t put_uint(char *buf, size_t at, size_t cap, unsigned long v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && at < cap)
		buf[at++] = tmp[--n];
	return at;
}

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char msg[192], line[256];
	size_t m = 0, l = 0;
	long nr = si->si_syscall;

	(void)sig;
	(void)uctx;
	if (si->si_code != SYS_SECCOMP) {
		m = put_str(msg, m, sizeof(msg), "SIGSYS sent by pid ");
		m = put_uint(msg, m, sizeof(msg), (unsigned long)si->si_pid);
	} else {
		m = put_str(msg, m, sizeof(msg), "seccomp: syscall ");
		if (nr >= 0 && nr < NAMES_NR && sigsys.off[nr])
			m = put_str(msg, m, sizeof(msg), sigsys.names + sigsys.off[nr] - 1);
		else
			m = put_str(msg, m, sizeof(msg), "?");
		m = put_str(msg, m, sizeof(msg), " (");
		m = put_uint(msg, m, sizeof(msg), (unsigned long)nr);
		m = put_str(msg, m, sizeof(msg),
			    ") is not in the profile; dying by SIGSYS");
	}
	msg[m < sizeof(msg) ? m : sizeof(msg) - 1] = '\0';
	l = put_str(line, l, sizeof(line), IDENT ": error: ");
	l = put_str(line, l, sizeof(line) - 1, msg);
	line[l++] = '\n';
	if (write(STDERR_FILENO, line, l) < 0) {
		/* Nothing else to tell it to. */
	}
	if (sigsys.report_fd >= 0) {
		l = put_str(line, 0, sizeof(line), "<27>" IDENT "[");  /* daemon.err */
		l = put_uint(line, l, sizeof(line), (unsigned long)sigsys.pid);
		l = put_str(line, l, sizeof(line), "]: ");
		l = put_str(line, l, sizeof(line), msg);
		if (write(sigsys.report_fd, line, l) < 0) {
			/* syslog is gone; stderr had it. */
		}
	}
	/* SA_RESETHAND made SIGSYS fatal again: the same call now kills. */
	if (si->si_code == SYS_SECCOMP)
		syscall(nr, 0, 0, 0, 0, 0, 0);
	_exit(128 + SIGSYS);
}

/* Name every syscall number libseccomp knows for this architecture. */
static int prepare_report(bool to_syslog)
{
	uint32_t arch = seccomp_arch_native();
	size_t used = 0;
	struct sigaction sa;

	for (int nr = 0; nr < NAMES_NR; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(arch, nr);
		size_t len = name ? strlen(name) + 1 : 0;

		if (name && used + len <= sizeof(sigsys.names)) {
			memcpy(sigsys.names + used, name, len);
			sigsys.off[nr] = (uint16_t)(used + 1);
			used += len;
		}
		free(name);
	}
	sigsys.pid = (int)getpid();
	if (to_syslog) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX, .sun_path = SYSLOG_PATH };
		int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return errno;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			/* No syslog daemon: its own lines are lost too. */
			log_warn("sandbox: %s: %s; a refused syscall will be "
				 "reported on stderr only", SYSLOG_PATH, strerror(errno));
			close(fd);
		} else {
			sigsys.report_fd = fd;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) ? errno : 0;
}

/* --- the steps ---------------------------------------------------------- */

static int lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		log_err("sandbox: store user '%s' does not exist%s%s; create it "
			"(useradd --system %s, as `make install` does) or name another "
			"with --store-user", name, errno ? ": " : "",
			errno ? strerror(errno) : "", name);
		return 1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		log_err("sandbox: store user '%s' has uid or gid 0; it must be an "
			"unprivileged user of its own", name);
		return 1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* Close [lo, hi] unless empty. */
static int close_between(unsigned int lo, unsigned int hi)
{
	return lo <= hi && close_range(lo, hi, 0) ? errno : 0;
}

/* Every descriptor above 2 but keep[0..n) (each above 2, or -1: none). */
static int close_strays(const int *keep, size_t n)
{
	unsigned int from = 3, next;
	int err = 0;

	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			return EBADF;  /* the broker always gives 0-2 */
	/* Up from 3, each time to the next kept one: n is tiny. */
	do {
		next = ~0u;
		for (size_t i = 0; i < n; i++)
			if (keep[i] >= (int)from && (unsigned int)keep[i] < next)
				next = (unsigned int)keep[i];
		err = close_between(from, next == ~0u ? ~0u : next - 1);
		from = next + 1;
	} while (!err && next != ~0u);
	return err;
}

/* mkdir -p of a root-owned, read-only, empty directory; returns an fd on it. */
static int open_empty_dir(int *fd_out)
{
	char parent[sizeof(LIXS_EMPTY_DIR)];
	char *slash;
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd;

	memcpy(parent, LIXS_EMPTY_DIR, sizeof(parent));
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0755) && errno != EEXIST)
			return errno;
	}
	if (mkdir(LIXS_EMPTY_DIR, 0555) && errno != EEXIST)
		return errno;
	fd = open(LIXS_EMPTY_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) || st.st_uid != 0 || (st.st_mode & 022)) {
		close(fd);
		log_err("sandbox: %s must be a directory owned by root that only "
			"root may write", LIXS_EMPTY_DIR);
		return EPERM;
	}
	d = fdopendir(dup(fd));
	if (!d) {
		close(fd);
		return errno;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			closedir(d);
			close(fd);
			log_err("sandbox: %s is not empty", LIXS_EMPTY_DIR);
			return ENOTEMPTY;
		}
	closedir(d);
	*fd_out = fd;
	return 0;
}

static int enter_empty_root(void)
{
	int fd = -1, err = open_empty_dir(&fd);

	if (err)
		return err;
	if (fchdir(fd) || chroot(".") || chdir("/"))
		err = errno;
	close(fd);
	return err;
}

static int change_user(uid_t uid, gid_t gid)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	/* Nothing kept: the new user gets empty sets of everything. */
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP |
			    CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT))
		return EPERM;
	if (getresuid(&r, &e, &s) || r != uid || e != uid || s != uid ||
	    getresgid(&rg, &eg, &sg) || rg != gid || eg != gid || sg != gid ||
	    getgroups(0, NULL) != 0)
		return EPERM;
	return 0;
}

/* Every set empty, checked with the kernel rather than believed. */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		return errno;
	for (unsigned long cap = 0; cap < 64; cap++) {
		int in_bset = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (in_bset < 0)
			break;  /* past the kernel's last capability */
		if (in_bset && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
			return errno;
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0 ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) != 0)
			return EPERM;
	}
	/* capset with all-zero sets; harmless if already empty. */
	if (syscall(SYS_capset, &hdr, data) || syscall(SYS_capget, &hdr, data))
		return errno;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return EPERM;
	return 0;
}

static int set_rlimits(void)
{
	/*
	 * No processes (RLIMIT_NPROC counts the store user's), no core
	 * dumps, no locked memory, no message queues.  RLIMIT_FSIZE stays:
	 * in the foreground stderr is the broker's log file, and 0 would
	 * turn every log line into SIGXFSZ; the filter has no open() anyway.
	 */
	static const int zero[] = { RLIMIT_NPROC, RLIMIT_CORE, RLIMIT_MEMLOCK,
				    RLIMIT_MSGQUEUE };

	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		if (setrlimit(zero[i], &(struct rlimit){ 0, 0 }))
			return errno;
	return 0;
}

static int lock_process(pid_t parent)
{
	/* The id change cleared the broker's PR_SET_PDEATHSIG: re-arm it,
	 * then make sure the broker did not die in between. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		return errno;
	if (getppid() != parent)
		return ESRCH;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return errno;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return EPERM;
	return 0;
}

int sandbox_enter(const struct sandbox_opts *o, const struct ipc_link *ipc, int epfd,
		  int timer_fd)
{
	const int keep[] = { ipc->fds, ipc->in, ipc->out, epfd, timer_fd };
	static struct profile prof;  /* 1 KiB: keep it off the stack */
	const char *user = o->user ? o->user : LIXS_STORE_USER;
	char perr[PROFILE_ERR_MAX];
	pid_t parent = getppid();
	uid_t uid;
	gid_t gid;
	int err;

	err = o->profile ? profile_read(o->profile, &prof, perr)
			 : profile_parse("built-in profile", profile_default_text,
					 strlen(profile_default_text), &prof, perr);
	if (err) {
		log_err("sandbox: seccomp profile: %s", perr);
		return 1;
	}
	if (lookup_user(user, &uid, &gid))
		return 1;
	/* Only the descriptors it serves; syslog's own socket is re-made. */
	if (o->to_syslog)
		closelog();
	err = close_strays(keep, sizeof(keep) / sizeof(keep[0]));
	if (err)
		return step_failed("closing inherited descriptors", err);
	/* syslog() must never need a file once the root is empty. */
	tzset();
	if (o->to_syslog)
		log_open(IDENT, true, o->verbosity);
	err = prepare_report(o->to_syslog);
	if (err)
		return step_failed("SIGSYS handler", err);
	err = enter_empty_root();
	if (err)
		return step_failed("chroot to " LIXS_EMPTY_DIR, err);
	err = change_user(uid, gid);
	if (err) {
		log_err("sandbox: cannot become user '%s' (uid %u, gid %u): %s",
			user, (unsigned int)uid, (unsigned int)gid, strerror(err));
		return 1;
	}
	err = drop_capabilities();
	if (err)
		return step_failed("dropping capabilities", err);
	err = set_rlimits();
	if (err)
		return step_failed("rlimits", err);
	err = lock_process(parent);
	if (err)
		return step_failed("parent death signal, no_new_privs, dumpable", err);
	err = profile_load(&prof, perr);
	if (err) {
		log_err("sandbox: %s; not serving unconfined", perr);
		return 1;
	}
	sigsys.confined = true;
	if (prof.action == PROFILE_LOG)
		log_warn("sandbox: the seccomp profile is in log mode (@action log): "
			 "syscalls outside it are logged by the kernel, not refused");
	log_debug("sandbox: user %s, root %s, %u syscalls allowed", user,
		  LIXS_EMPTY_DIR, prof.n);
	return 0;
}

#include "children.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "log.h"
#include "paths.h"
#include "pol.h"
#include "procstat.h"
#include "sandbox.pb-c.h"

int64_t mon_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The one process-wide origin of the -v timing lines. */
static struct timespec mon_t0;

void mon_clock_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &mon_t0);
}

double mon_since_start_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - mon_t0.tv_sec) * 1e3 +
	       (double)(ts.tv_nsec - mon_t0.tv_nsec) / 1e6;
}

void mon_proc_init(struct mon_proc *p, const char *name, const char *kind, const char *policy)
{
	*p = (struct mon_proc){.kind = kind,
			       .policy = policy,
			       .ctl = -1,
			       .child = {.pidfd = -1},
			       .state = MON_PROC_GONE,
			       .log = {.fd = -1}};
	snprintf(p->name, sizeof(p->name), "%s", name);
}

int mon_proc_spawn(struct mon_proc *p, int ctl_end)
{
	char exe[PATH_MAX], argv0[32], builddir[48];
	char *argv[] = {argv0, NULL};
	struct mon_spawn_args sa = {
	    .path = exe, .argv = argv, .fds = &ctl_end, .nfds = 1, .keep_net = p->host_net};
	int rc;

	snprintf(argv0, sizeof(argv0), "moat-%s", p->kind);
	snprintf(builddir, sizeof(builddir), strcmp(p->kind, "vcpu") ? "devproc/%s" : "%s",
		 p->kind);
	rc = mon_find_child_exe(argv0, builddir, exe, sizeof(exe));
	if (rc < 0 && p->cgroup_fd > 0) {
		close(p->cgroup_fd);
		p->cgroup_fd = 0;
	}
	if (rc < 0)
		return log_error_errno(rc,
				       "cannot find the %s executable (looked beside moat, in "
				       "the build tree and in %s)",
				       argv0, MOAT_LIBEXECDIR);
	sa.uid = sa.gid = p->uid;
	sa.cgroup_fd = p->cgroup_fd;
	rc = mon_childlog_open(&p->log, &sa.log_fd);
	if (rc < 0)
		return log_error_errno(rc, "Failed to make the log pipe of %s: %m", argv0);
	rc = mon_spawn(&sa, &p->child);
	close(sa.log_fd);
	if (p->cgroup_fd > 0)
		close(p->cgroup_fd);
	p->cgroup_fd = 0;
	if (rc < 0) {
		mon_childlog_close(&p->log, p->name);
		return log_error_errno(rc, "Failed to start %s: %m", argv0);
	}
	p->state = MON_PROC_STARTING;
	struct mon_procstat st;
	if (mon_procstat_namespaces(p->child.pid, &st) == 0) {
		snprintf(p->spawn_namespaces, sizeof(p->spawn_namespaces), "%s", st.namespaces);
		p->spawn_shares_net = st.shares_net;
	}
	log_debug("%s (%s) is pid %d (uid %u); spawned at %.1f ms", p->name, argv0,
		  (int)p->child.pid, (unsigned)p->uid, mon_since_start_ms());
	mon_proc_audit(p, "child-start", "uid=%u policy=%s", (unsigned)p->uid, p->policy);
	return 0;
}

void mon_proc_audit(struct mon_proc *p, const char *event, const char *fmt, ...)
{
	char rest[768];
	va_list ap;

	if (p->audit_lines > MON_AUDIT_PER_CHILD)
		return;
	if (p->audit_lines++ == MON_AUDIT_PER_CHILD) {
		mon_audit("child-audit-capped", "child=%s kind=%s pid=%d lines=%u", p->name,
			  p->kind, (int)p->child.pid, MON_AUDIT_PER_CHILD);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	mon_audit(event, "child=%s kind=%s pid=%d%s%s", p->name, p->kind, (int)p->child.pid,
		  rest[0] ? " " : "", rest);
}

void mon_proc_ending(struct mon_proc *p)
{
	p->state = MON_PROC_ENDING;
	p->expected_end = true;
}

void mon_proc_kill(struct mon_proc *p)
{
	if (p->child.pidfd >= 0)
		syscall(SYS_pidfd_send_signal, p->child.pidfd, SIGKILL, NULL, 0);
}

static void close_ctl(struct mon_proc *p)
{
	if (p->ctl >= 0)
		close(p->ctl);
	p->ctl = -1;
}

void mon_proc_hostile(struct mon_proc *p, const char *why)
{
	if (p->hostile)
		return;
	p->hostile = true;
	log_error("%s (moat-%s, pid %d) %s; cut off", p->name, p->kind, (int)p->child.pid, why);
	/* Not capped: one line, and the one that matters most. */
	mon_audit("child-hostile", "child=%s kind=%s pid=%d reason=\"%s\"", p->name, p->kind,
		  (int)p->child.pid, why);
	mon_proc_kill(p);
	close_ctl(p);
}

/* How many syscalls the policy p must run under allows, from the table
 * the build made of the same embedded text (policy_bpf.h): a lookup, with
 * no libseccomp on a device's restart path (issue 15). */
static int expected_syscalls(const char *policy, unsigned *n)
{
	int r = pol_syscalls(policy, n);

	if (r < 0)
		return log_error_errno(r, "policy %s: not built into moat", policy);
	return 0;
}

/* Compare what the child says with what we saw (want: the syscalls its
 * policy allows, 0 when unknown); why names the first lie. */
static bool claim_matches(const struct mon_proc *p, const struct mon_claim *c,
			  const struct mon_procstat *st, unsigned want, char *why, size_t len)
{
	if (!c->present) {
		snprintf(why, len, "reported no sandbox state");
		return false;
	}
	if (c->uid != 0 || !c->caps_all_zero || !c->no_new_privs || c->seccomp_mode != 2) {
		snprintf(why, len, "claims uid %u caps_all_zero %d no_new_privs %d seccomp %u",
			 c->uid, c->caps_all_zero, c->no_new_privs, c->seccomp_mode);
		return false;
	}
	if (!c->namespaces || strcmp(c->namespaces, st->namespaces) != 0) {
		snprintf(why, len, "claims other namespaces than it has (it has %s)",
			 st->namespaces);
		return false;
	}
	if (want && c->policy_syscalls != want) {
		snprintf(why, len, "claims a policy of %u syscalls; %s allows %u",
			 c->policy_syscalls, p->policy, want);
		return false;
	}
	return true;
}

int mon_proc_check_ready(struct mon_proc *p, const struct mon_claim *claim, const char *extra)
{
	struct mon_procstat st;
	unsigned nsys = 0;
	char why[160];
	int r = mon_procstat_status(p->child.pid, &st);

	/* Not yet reaped, so a child that died since READY is a zombie: its
	 * status is still there, its namespaces are the ones seen at spawn. */
	if (r == 0 && mon_procstat_namespaces(p->child.pid, &st) < 0) {
		snprintf(st.namespaces, sizeof(st.namespaces), "%s", p->spawn_namespaces);
		st.shares_net = p->spawn_shares_net;
	}
	if (r < 0) {
		snprintf(why, sizeof(why), "said READY but its /proc state is unreadable (%s)",
			 strerror(-r));
		goto hostile;
	}
	if (!mon_procstat_confined(&st, p->uid, p->uid, p->host_net, why, sizeof(why)))
		goto hostile;
	(void)expected_syscalls(p->policy, &nsys);
	mon_proc_audit(p, "child-ready",
		       "%s%suid=%u caps=none no_new_privs=%d seccomp=%d syscalls=%u namespaces=%s",
		       extra ? extra : "", extra && *extra ? " " : "", st.uid[0], st.no_new_privs,
		       st.seccomp, nsys, st.namespaces);
	log_debug("%s: sandboxed: uid=%u seccomp=%d syscalls=%u namespaces=%s; READY at %.1f ms",
		  p->name, st.uid[0], st.seccomp, nsys, st.namespaces, mon_since_start_ms());
	if (!claim_matches(p, claim, &st, nsys, why, sizeof(why)))
		goto hostile;
	p->state = MON_PROC_READY;
	return 0;
hostile:
	mon_proc_hostile(p, why);
	return -EPERM;
}

void mon_claim_from(const struct Moat__Sandbox__SandboxReport *s, struct mon_claim *claim)
{
	*claim = (struct mon_claim){.present = s != NULL};
	if (s)
		*claim = (struct mon_claim){true,	  s->caps_all_zero, s->no_new_privs,
					    s->uid,	  s->seccomp_mode,  s->policy_syscalls,
					    s->namespaces};
}

void mon_proc_hangup(struct mon_proc *p)
{
	close_ctl(p);
	if (p->state != MON_PROC_GONE && !p->hangup_deadline) {
		p->hangup_at = mon_now_ms();
		p->hangup_deadline = p->hangup_at + MON_HANGUP_GRACE_MS;
	}
}

/* Past the grace: a child whose every thread is in the kernel's exit path
 * is slow, not lingering (tearing down gigabytes of guest RAM and a KVM VM
 * takes seconds in an emulated host); one with a thread still running its
 * own code is cut off. */
static bool still_exiting(struct mon_proc *p, int64_t now)
{
	if (now - p->hangup_at >= MON_EXITING_GRACE_MS ||
	    mon_procstat_exiting(p->child.pid) != 1)
		return false;
	log_debug("%s (pid %d) is still exiting in the kernel %lld ms after closing its "
		  "channel",
		  p->name, (int)p->child.pid, (long long)(now - p->hangup_at));
	p->hangup_deadline = now + MON_HANGUP_GRACE_MS / 4;
	return true;
}

int mon_proc_tick(struct mon_proc *p, int64_t now)
{
	if (!p->hangup_deadline || p->state == MON_PROC_GONE || p->hostile)
		return -1;
	if (now >= p->hangup_deadline && !still_exiting(p, now)) {
		mon_proc_hostile(p, "closed its control channel but stayed alive");
		return -1;
	}
	return (int)(p->hangup_deadline - now);
}

bool mon_proc_exited_with(const struct mon_proc *p, int status)
{
	return p->state == MON_PROC_GONE && p->death.si_code == CLD_EXITED &&
	       p->death.si_status == status;
}

bool mon_proc_reap(struct mon_proc *p, bool wait)
{
	siginfo_t si = {0};
	char how[128];

	if (p->state == MON_PROC_GONE)
		return true;
	if (p->child.pidfd < 0)
		return false;
	while (waitid(P_PIDFD, p->child.pidfd, &si, WEXITED | (wait ? 0 : WNOHANG)) < 0)
		if (errno != EINTR) {
			log_warn_errno(errno, "waitid for %s: %m", p->name);
			return false;
		}
	if (si.si_pid == 0)
		return false;
	p->death = si;
	p->state = MON_PROC_GONE;
	if (p->hangup_at)
		log_debug("%s reaped %lld ms after its channel closed", p->name,
			  (long long)(mon_now_ms() - p->hangup_at));
	mon_childlog_close(&p->log, p->name); /* its last words first */
	mon_describe_death(&si, p->child.pid, how, sizeof(how));
	if (p->expected_end && !p->hostile && si.si_code == CLD_EXITED)
		mon_proc_audit(p, "child-exit", "%s", how);
	else if (p->expected_end && !p->hostile && si.si_status == SIGKILL)
		mon_proc_audit(p, "child-exit", "%s (the VM is over)", how);
	else
		mon_proc_audit(p, "child-died", "%s", how);
	close(p->child.pidfd);
	p->child.pidfd = -1;
	return true;
}

void mon_proc_release(struct mon_proc *p)
{
	if (p->state != MON_PROC_GONE && p->child.pidfd >= 0) {
		p->expected_end = true;
		mon_proc_kill(p);
		mon_proc_reap(p, true);
	}
	close_ctl(p);
	mon_childlog_close(&p->log, p->name);
	if (p->child.pidfd >= 0)
		close(p->child.pidfd);
	p->child.pidfd = -1;
}

/* The monitor's one table of children (as OpenBSD vmd's struct
 * privsep_proc): moat-vcpu and every device process are a struct mon_proc,
 * spawned, audited, checked for READY, cut off and reaped through the
 * functions here, whatever their kind.
 *
 * A child is never believed: its sandbox state is read from /proc by the
 * monitor itself (procstat.h), its messages are checked against its
 * channel's rule table (proto.h) before they are handled, its strings are
 * escaped before they reach the audit trail or the terminal (devmsg.h),
 * and the audit lines written on its behalf are capped. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "childlog.h"
#include "spawn.h"

#define MON_PROTO_MAX_MSG   8	 /* envelope cases per channel, 1-based */
#define MON_AUDIT_PER_CHILD 64	 /* audit lines one child can cause */
#define MON_HANGUP_GRACE_MS 2000 /* a child that closed its channel must be gone by then */
/* ... unless every thread of it is exiting in the kernel (procstat.h),
 * which cannot run its code any more: then it gets up to this long. */
#define MON_EXITING_GRACE_MS 60000

enum mon_proc_state {
	MON_PROC_STARTING, /* spawned, its start request sent: READY awaited */
	MON_PROC_READY,	   /* sandboxed and serving */
	MON_PROC_ENDING,   /* it said it is ending (EXIT, BAD_INPUT, START_ERROR) */
	MON_PROC_GONE,	   /* reaped */
};

struct mon_proc {
	char name[16];		 /* "vcpu", "smc0", "blk0": the audit's child= */
	const char *kind;	 /* "vcpu", "smc", "blk", "net": moat-<kind> */
	const char *policy;	 /* the policy it must be confined by ("net-user") */
	bool host_net;		 /* keeps the host's network namespace (slirp) */
	struct mon_child child;	 /* pid and pidfd; pidfd -1 once reaped */
	uid_t uid;		 /* host uid (and gid) it must run as */
	int cgroup_fd;		 /* its cgroup leaf for the spawn (closed after), or 0 */
	int ctl;		 /* control channel; -1 once closed */
	struct mon_childlog log; /* its stdout and stderr, relayed (childlog.h) */
	enum mon_proc_state state;
	unsigned seen[MON_PROTO_MAX_MSG]; /* messages received, by envelope case */
	unsigned requests;		  /* our requests it has not answered (stats) */
	unsigned audit_lines;
	int64_t hangup_at;	 /* ms (mon_now_ms) when its channel closed; 0: open */
	int64_t hangup_deadline; /* ms: to be gone by then */
	bool hostile;		 /* broke its protocol or lied: killed */
	bool expected_end;	 /* the monitor ended it, or it said it would end */
	siginfo_t death;	 /* how it ended, once GONE */
	/* its namespaces, read by us just after the spawn: a child that dies
	 * right after READY leaves a zombie without /proc/PID/ns/ */
	char spawn_namespaces[64];
	bool spawn_shares_net;
};

/* A fresh entry: no process, no channel. */
void mon_proc_init(struct mon_proc *p, const char *name, const char *kind, const char *policy);

/* Spawn moat-<kind> with ctl_end as its fd 3 and a pipe of ours as its
 * stdout and stderr (p->log), as the host uid and gid p->uid (the caller's
 * choice, from the VM's block: uids.h); audits child-start. 0 or -errno
 * (logged). */
int mon_proc_spawn(struct mon_proc *p, int ctl_end);

/* An audit line about p, "EVENT child=NAME kind=KIND pid=PID <rest>",
 * unless p has used up MON_AUDIT_PER_CHILD (one child-audit-capped line
 * says so, once). */
void mon_proc_audit(struct mon_proc *p, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* p broke its protocol or lied about itself: log and audit child-hostile
 * with why, kill it and close its channel. Its death is reaped as usual. */
void mon_proc_hostile(struct mon_proc *p, const char *why);

/* p said it is ending (EXIT, BAD_INPUT, START_ERROR): its end is expected,
 * and any further message but what ENDING allows is a breach. */
void mon_proc_ending(struct mon_proc *p);

/* SIGKILL (no-op once reaped). */
void mon_proc_kill(struct mon_proc *p);

/* Its READY, with the sandbox state it claims: read /proc for ourselves,
 * audit child-ready with what we saw (extra: more key=value text, already
 * safe), and compare the claim. A child that is not confined, or that
 * claims something else, is hostile. 0, or -EPERM when it was cut off. */
struct mon_claim {
	bool present, caps_all_zero, no_new_privs;
	uint32_t uid, seccomp_mode, policy_syscalls;
	const char *namespaces;
};
int mon_proc_check_ready(struct mon_proc *p, const struct mon_claim *claim, const char *extra);

/* The claim in a READY's sandbox report (NULL: none made). */
struct Moat__Sandbox__SandboxReport;
void mon_claim_from(const struct Moat__Sandbox__SandboxReport *s, struct mon_claim *claim);

/* Its channel reported end of file: close it. If it is still alive after
 * MON_HANGUP_GRACE_MS, mon_proc_tick() cuts it off as hostile. */
void mon_proc_hangup(struct mon_proc *p);

/* Deadlines: cut off a child that hung up and stayed; returns the ms until
 * the next deadline, or -1 for none. */
int mon_proc_tick(struct mon_proc *p, int64_t now);

/* Reap p if it has ended (wait: block until it has). Records how in
 * p->death and audits it: child-exit when the end was expected and clean,
 * child-died otherwise. true once p is GONE. */
bool mon_proc_reap(struct mon_proc *p, bool wait);

/* Did p end the way it said it would (exited with status)? */
bool mon_proc_exited_with(const struct mon_proc *p, int status);

/* Close everything p holds (after reaping). */
void mon_proc_release(struct mon_proc *p);

int64_t mon_now_ms(void);

/* Start-up timing for -v: mon_clock_start() marks the monitor's start (the
 * first thing mon_run does); mon_since_start_ms() is the time since then, in
 * milliseconds, for the log_debug lines that trace each phase of a start
 * (bench/startup reads them). */
void mon_clock_start(void);
double mon_since_start_ms(void);

/* Resource limits of a sandboxed child (see struct pol_limits for the
 * defaults and why). Limits only go down here: raising a hard limit would
 * need CAP_SYS_RESOURCE in the initial namespace, which no child has. */
#include <errno.h>
#include <sys/resource.h>

#include "log.h"
#include "sandbox_steps.h"

static int rlimit_set(int resource, const char *name, rlim_t value, uint64_t *out)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) < 0)
		return log_error_errno(errno, "sandbox: getrlimit %s: %m", name);
	if (value > rl.rlim_max)
		value = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = value;
	if (setrlimit(resource, &rl) < 0)
		return log_error_errno(errno, "sandbox: setrlimit %s %llu: %m", name,
				       (unsigned long long)value);
	*out = value;
	return 0;
}

static int rlimit_read(int resource, uint64_t *out)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) < 0)
		return -errno;
	*out = rl.rlim_max;
	return 0;
}

/* A limit that is set when asked for (value non-zero), else read back. */
static int rlimit_opt(int resource, const char *name, rlim_t value, uint64_t *out)
{
	return value ? rlimit_set(resource, name, value, out) : rlimit_read(resource, out);
}

int pol_rlimits_apply(const struct pol_limits *lim, const struct pol_entry_state *at,
		      struct pol_report *rep)
{
	rlim_t extra = lim->nofile_extra ? lim->nofile_extra : POL_NOFILE_SLACK;
	rlim_t nofile = lim->nofile ? lim->nofile : (rlim_t)at->maxfd + 1 + extra;
	rlim_t as = lim->as_extra ? at->vm_bytes + lim->as_extra : 0;
	int r;

	r = rlimit_set(RLIMIT_CORE, "RLIMIT_CORE", 0, &rep->rlim_core);
	if (r == 0)
		r = rlimit_set(RLIMIT_NOFILE, "RLIMIT_NOFILE", nofile, &rep->rlim_nofile);
	if (r == 0)
		r = rlimit_opt(RLIMIT_NPROC, "RLIMIT_NPROC", lim->nproc, &rep->rlim_nproc);
	if (r == 0)
		r = rlimit_opt(RLIMIT_AS, "RLIMIT_AS", as, &rep->rlim_as);
	if (r == 0)
		r = rlimit_opt(RLIMIT_FSIZE, "RLIMIT_FSIZE", lim->fsize, &rep->rlim_fsize);
	return r;
}

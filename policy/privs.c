/* Privileges: lock securebits, drop every capability, and check that they
 * are gone; then no_new_privs and not dumpable. Root of our user namespace
 * keeps its uid 0 (mapped to the unprivileged host uid) but, with
 * SECBIT_NOROOT locked and no capabilities, that uid grants nothing. */
#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sandbox_steps.h"

/* Never regain capabilities: not by exec as uid 0 (NOROOT), not by uid
 * changes (NO_SETUID_FIXUP), not through KEEP_CAPS or ambient raises; and
 * lock each bit. Needs CAP_SETPCAP, so it comes before the drop. */
#define PRIVS_SECUREBITS                                                                           \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |                            \
	 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |   \
	 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

int pol_privs_prepare(void)
{
	if (capng_get_caps_process() < 0)
		return log_error_errno(EIO, "sandbox: libcap-ng cannot read our capabilities");
	return 0;
}

/* Checked with the kernel directly rather than trusting libcap-ng's idea
 * of the last capability: every cap number the kernel knows, in every set. */
static bool privs_caps_clear(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {0};

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return false;
	for (int cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			break; /* EINVAL: past the last capability */
		if (r > 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
			return false;
	}
	return true;
}

static int privs_drop_caps(void)
{
	/* mon_spawn() already dropped the supplementary groups; this is for a
	 * child started some other way. Needs CAP_SETGID, so before the drop. */
	if (getgroups(0, NULL) != 0 && setgroups(0, NULL) < 0)
		log_warn_errno(errno, "sandbox: dropping supplementary groups: %m");
	if (prctl(PR_SET_SECUREBITS, PRIVS_SECUREBITS, 0, 0, 0) < 0)
		return log_error_errno(errno, "sandbox: locking securebits: %m");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return log_error_errno(errno, "sandbox: clearing ambient capabilities: %m");
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(CAPNG_SELECT_ALL) < 0)
		return log_error_errno(EPERM, "sandbox: libcap-ng could not drop capabilities");
	if (!privs_caps_clear())
		return log_error_errno(EPERM, "sandbox: capabilities left after dropping them");
	return 0;
}

int pol_privs_drop(struct pol_report *rep)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	int r;

	r = privs_drop_caps();
	if (r < 0)
		return r;
	rep->caps_all_zero = true;
	rep->securebits = (uint32_t)prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return log_error_errno(errno, "sandbox: PR_SET_NO_NEW_PRIVS: %m");
	/* No core dumps, no ptrace by anything running as the same uid (the
	 * other children of this VM), /proc/PID owned by root. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return log_error_errno(errno, "sandbox: PR_SET_DUMPABLE: %m");
	rep->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
	rep->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0;

	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
		return log_error_errno(errno, "sandbox: reading our ids: %m");
	if (ruid != euid || euid != suid || rgid != egid || egid != sgid)
		return log_error_errno(EPERM, "sandbox: real, effective and saved ids differ");
	rep->uid = euid;
	rep->gid = egid;
	r = getgroups(0, NULL);
	if (r < 0)
		return log_error_errno(errno, "sandbox: getgroups: %m");
	rep->ngroups = (uint32_t)r;
	return 0;
}

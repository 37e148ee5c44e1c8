/* Where the monitor looks for its children and /dev/kvm. moat itself never
 * changes these: only the hostile-child harness (tests/hostile), which
 * links the monitor library, points them at stand-in children and a stand-in
 * /dev/kvm, so the real monitor code is tested against children that
 * misbehave. NULL: the real places. */
#pragma once

struct mon_test_hooks {
	const char *child_dir; /* look for moat-<kind> here first */
	const char *kvm_path;  /* open this instead of /dev/kvm */
};

extern struct mon_test_hooks mon_test_hooks;

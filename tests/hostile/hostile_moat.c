/* The real monitor (the moat-monitor library), pointed at stand-in
 * children and a stand-in /dev/kvm (monitor/testhooks.h), so that the
 * hostile-child tests exercise exactly the code moat runs.
 * Usage: hostile-moat CHILD_DIR KVM_PATH run ARGS... */
#include <stdio.h>

#include "cli.h"
#include "testhooks.h"

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: hostile-moat CHILD_DIR KVM_PATH run ARGS...\n");
		return 2;
	}
	mon_test_hooks.child_dir = argv[1];
	mon_test_hooks.kvm_path = argv[2];
	argv[2] = argv[0];
	return mon_main(argc - 2, argv + 2);
}

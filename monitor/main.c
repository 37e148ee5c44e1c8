/* moat: the monitor, the only privileged process of a VM; and `moat ctl`,
 * its control socket's client, which shares the executable but none of
 * the monitor's code. */
#include <string.h>

#include "cli.h"
#include "ctl.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc - 1, argv + 1);
	return mon_main(argc, argv);
}

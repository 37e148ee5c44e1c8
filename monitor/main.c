/* moat: the monitor. The only privileged process of a VM. */
#include "cli.h"

int main(int argc, char **argv)
{
	return mon_main(argc, argv);
}

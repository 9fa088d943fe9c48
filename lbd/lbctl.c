/* lbctl — control lbd over its socket (see lbctl(8)). */
#include "ctl.h"

int
main(int argc, char **argv)
{
	return ctl_tool_main(argc, argv, "lbctl", "/run/stackd/lbd.sock");
}

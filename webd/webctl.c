/* webctl — control webd over its socket (see webctl(8)). */
#include "ctl.h"

int
main(int argc, char **argv)
{
	return ctl_tool_main(argc, argv, "webctl", "/run/stackd/webd.sock");
}

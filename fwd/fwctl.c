/* fwctl — control fwd over its socket (see fwctl(8)). */
#include "ctl.h"

int
main(int argc, char **argv)
{
	return ctl_tool_main(argc, argv, "fwctl", "/run/stackd/fwd.sock");
}

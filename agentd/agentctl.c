/* agentctl — control agentd over its socket (see agentctl(8)). Every
 * command but `top` is a plain request; `top` asks again every interval
 * and redraws the screen:
 *
 *	agentctl [-s socket] top [-n count] [-i seconds] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define AGENTCTL_SOCKET	"/run/stackd/agentd.sock"

static int
top(const char *sock, int argc, char **argv)
{
	char		*req[] = { "top", NULL };
	char		 err[512];
	long		 count = -1, n;
	double		 interval = 1;
	int		 i, rv;
	bool		 tty = isatty(STDOUT_FILENO);

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			count = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
			interval = strtod(argv[++i], NULL);
		else {
			fprintf(stderr, "usage: agentctl top [-n count] "
			    "[-i seconds]\n");
			return 2;
		}
	}
	if (interval < 0.1)
		interval = 0.1;
	for (n = 0; count < 0 || n < count; n++) {
		if (n > 0) {
			struct timespec ts = { (time_t)interval,
			    (long)((interval - (time_t)interval) * 1e9) };

			nanosleep(&ts, NULL);
		}
		if (tty)
			fputs("\033[H\033[2J", stdout);
		rv = ctl_request(sock, 1, req, stdout, 10000, err, sizeof(err));
		fflush(stdout);
		if (rv != 0) {
			fprintf(stderr, "agentctl: %s\n", err);
			return rv == 1 ? 1 : 2;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct ctl_tool agentctl = { "agentctl", AGENTCTL_SOCKET,
	    NULL };
	const char	*sock = AGENTCTL_SOCKET;
	int		 i;

	/* Options before the command are ctl_tool_run's; only -s matters
	 * to top. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++)
		if ((strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "-t") == 0) &&
		    i + 1 < argc) {
			if (argv[i][1] == 's')
				sock = argv[i + 1];
			i++;
		}
	if (i < argc && strcmp(argv[i], "top") == 0)
		return top(sock, argc - i, argv + i);
	return ctl_tool_run(&agentctl, argc, argv);
}

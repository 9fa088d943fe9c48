# webd: the daemon and its ctl tool. Included by the top-level Makefile.
PROGS		+= webd webctl
webd_SRC	:= $(filter-out webd/webctl.c,$(sort $(wildcard webd/*.c)))
webctl_SRC	:= webd/webctl.c
# Pure modules the unit suites test directly.
UNIT_EXTRA_SRC	+= $(filter-out webd/webd.c webd/webctl.c webd/webd_conn.c \
		    webd/webd_upstream.c webd/webd_workers.c,$(webd_SRC))
CPPFLAGS	+= -Iwebd

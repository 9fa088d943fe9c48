# agentd: the monitoring agent and its ctl tool. Included by the top-level
# Makefile.
PROGS		+= agentd agentctl
agentd_SRC	:= $(filter-out agentd/agentctl.c,$(sort $(wildcard agentd/*.c)))
agentd_LIBS	:= -lz
agentctl_SRC	:= agentd/agentctl.c
CPPFLAGS	+= -Iagentd
# The parts the unit suites test directly (no event loop of their own).
UNIT_EXTRA_SRC	+= agentd/ag_prom.c agentd/ag_alert.c agentd/ag_access.c \
		    agentd/ag_tail.c agentd/ag_host.c agentd/ag_host_proc.c
# The exposition reader and the access-log parser are pure: the fuzz
# targets link them.
FUZZ_EXTRA_SRC	+= agentd/ag_prom.c agentd/ag_access.c
FUZZ_CPPFLAGS	+= -Iagentd

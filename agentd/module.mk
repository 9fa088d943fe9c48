# agentd: the monitoring agent and its ctl tool. Included by the top-level
# Makefile.
PROGS		+= agentd agentctl
agentd_SRC	:= $(filter-out agentd/agentctl.c,$(sort $(wildcard agentd/*.c)))
agentd_LIBS	:= -lz
agentctl_SRC	:= agentd/agentctl.c
CPPFLAGS	+= -Iagentd
# The parts the unit suites test directly (no event loop of their own).
UNIT_EXTRA_SRC	+= agentd/ag_prom.c agentd/ag_alert.c agentd/ag_access.c \
		    agentd/ag_tail.c agentd/ag_host.c agentd/ag_host_proc.c \
		    agentd/ag_spool.c agentd/ag_ship_conf.c agentd/ag_ship_body.c
# The exposition reader and the access-log parser are pure: the fuzz
# targets link them.
FUZZ_EXTRA_SRC	+= agentd/ag_prom.c agentd/ag_access.c
FUZZ_CPPFLAGS	+= -Iagentd
# ag_ship_body.c (gzip) needs zlib in the unit binary.
$(BUILD)/tests/check_stackd: LDLIBS += -lz

# The shipper's integration-test driver (tests/integration/t_ag_ship.sh):
# ag_ship on its own event loop.
AG_SHIP_DRIVE	:= $(BUILD)/tests/ag_ship_drive
AG_SHIP_DRIVE_SRC := tests/integration/ag_ship_drive.c agentd/ag_ship.c \
		    agentd/ag_ship_body.c agentd/ag_ship_conf.c agentd/ag_spool.c
$(AG_SHIP_DRIVE): $(AG_SHIP_DRIVE_SRC:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(AG_SHIP_DRIVE_SRC:%.c=$(BUILD)/%.o) $(LIB) -lz $(LDLIBS)
check-build: $(AG_SHIP_DRIVE)
-include $(BUILD)/tests/integration/ag_ship_drive.d

# fwd: the nftables firewall manager and its ctl tool. Included by the
# top-level Makefile.
PROGS		+= fwd fwctl
fwd_SRC		:= $(filter-out fwd/fwctl.c,$(sort $(wildcard fwd/*.c)))
fwd_LIBS	:= -lnftnl -lmnl
fwctl_SRC	:= fwd/fwctl.c
# Pure modules the unit suites test directly (fwd_batch only builds
# messages in memory, so it needs libnftnl but no privilege).
UNIT_EXTRA_SRC	+= fwd/fwd_policy.c fwd/fwd_compile.c fwd/fwd_state.c fwd/fwd_guard.c
CPPFLAGS	+= -Ifwd

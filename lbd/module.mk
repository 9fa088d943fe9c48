# lbd: the load balancer and its ctl tool. Included by the top-level Makefile.
PROGS		+= lbd lbctl
lbd_SRC		:= $(filter-out lbd/lbctl.c,$(sort $(wildcard lbd/*.c)))
lbctl_SRC	:= lbd/lbctl.c
# Pure modules the unit suites test directly.
UNIT_EXTRA_SRC	+= lbd/lbd_balance.c lbd/lbd_state.c
CPPFLAGS	+= -Ilbd

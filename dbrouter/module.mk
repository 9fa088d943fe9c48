# dbrouter: the MySQL router and its ctl tool. Included by the top-level
# Makefile.
PROGS		+= dbrouter dbctl
dbrouter_SRC	:= $(filter-out dbrouter/dbctl.c,$(sort $(wildcard dbrouter/*.c)))
dbrouter_LIBS	:= $(shell pkg-config --libs libmariadb)
dbctl_SRC	:= dbrouter/dbctl.c
CPPFLAGS	+= -Idbrouter
# The client library's headers only where it is used.
$(BUILD)/dbrouter/%.o: CPPFLAGS += $(shell pkg-config --cflags-only-I libmariadb)

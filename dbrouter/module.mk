# dbrouter: the MySQL router and its ctl tool. Included by the top-level
# Makefile.
PROGS		+= dbrouter dbctl
dbrouter_SRC	:= $(filter-out dbrouter/dbctl.c,$(sort $(wildcard dbrouter/*.c)))
dbrouter_LIBS	:= $(shell pkg-config --libs libmariadb)
dbctl_SRC	:= dbrouter/dbctl.c
CPPFLAGS	+= -Idbrouter
# The client library's headers only where it is used.
$(BUILD)/dbrouter/%.o: CPPFLAGS += $(shell pkg-config --cflags-only-I libmariadb)
# The pure protocol and classification layer: the unit suites test it
# directly and the fuzz targets link it.
DBROUTER_PURE	:= $(sort $(wildcard dbrouter/mysql_*.c dbrouter/query_*.c) dbrouter/dbr_gtid.c)
UNIT_EXTRA_SRC	+= $(DBROUTER_PURE)
FUZZ_EXTRA_SRC	+= $(DBROUTER_PURE)
FUZZ_CPPFLAGS	+= -Idbrouter

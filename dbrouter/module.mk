# dbrouter: the MySQL primary/replica router. Included by the top-level
# Makefile. So far only its pure protocol and classification layer exists
# (no program yet); the daemon and dbctl will add themselves to PROGS and
# filter their own sources out of DBROUTER_PURE.
DBROUTER_PURE	:= $(sort $(wildcard dbrouter/mysql_*.c dbrouter/query_*.c))
# Pure modules the unit suites test directly and the fuzz targets link.
UNIT_EXTRA_SRC	+= $(DBROUTER_PURE)
FUZZ_EXTRA_SRC	+= $(DBROUTER_PURE)
CPPFLAGS	+= -Idbrouter
FUZZ_CPPFLAGS	+= -Idbrouter

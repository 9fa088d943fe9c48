/* Unit-test runner: every module's Check suite in one binary. */
#include <stdio.h>
#include <stdlib.h>

#include "suites.h"



static Suite *(*const suites[])(void) = {
	buf_suite,
	log_suite,
	ev_suite,
	conf_suite,
	ctl_suite,
	net_suite,
	daemon_suite,
	metrics_suite,
	tls_suite,
	http_suite,
	service_suite,
	stream_suite,
	webd_static_suite,
	webd_fcgi_suite,
	suite_lbd_balance,
	suite_lbd_state,
	proxyproto_suite,
	fwd_policy_suite,
	sha1_suite,
	mysql_packet_suite,
	mysql_proto_suite,
	query_class_suite,
	ag_prom_suite,
	ag_alert_suite,
	dbr_gtid_suite,
	ag_host_suite,
	ag_tail_suite,
	ag_access_suite,
	ag_spool_suite,
};

const char *
testdata_dir(void)
{
	const char *d = getenv("STACKD_TESTDATA");

	return d != NULL ? d : "tests/data";
}

int
main(void)
{
	SRunner	*sr;
	const char *counts;
	FILE	*fp;
	int	 run, failed;
	size_t	 i;

	sr = srunner_create(NULL);
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	run = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	/* make check adds unit and integration counts into one summary. */
	if ((counts = getenv("STACKD_COUNTS")) != NULL &&
	    (fp = fopen(counts, "w")) != NULL) {
		fprintf(fp, "%d %d\n", run - failed, failed);
		fclose(fp);
	}
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

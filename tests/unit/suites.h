/* One Check suite per common/ module; check_main.c runs them all.
 * CK_RUN_SUITE=conf (Check's own variable) runs one. */
#ifndef STACKD_SUITES_H
#define STACKD_SUITES_H

#include <check.h>

Suite	*buf_suite(void);
Suite	*log_suite(void);
Suite	*ev_suite(void);
Suite	*conf_suite(void);
Suite	*ctl_suite(void);
Suite	*net_suite(void);
Suite	*daemon_suite(void);
Suite	*metrics_suite(void);
Suite	*tls_suite(void);
Suite	*http_suite(void);
Suite	*service_suite(void);
Suite	*stream_suite(void);
Suite	*webd_static_suite(void);
Suite	*webd_fcgi_suite(void);
Suite	*suite_lbd_balance(void);
Suite	*suite_lbd_state(void);
Suite	*proxyproto_suite(void);
Suite	*fwd_policy_suite(void);
Suite	*sha1_suite(void);
Suite	*mysql_packet_suite(void);
Suite	*mysql_proto_suite(void);
Suite	*query_class_suite(void);
Suite	*ag_prom_suite(void);
Suite	*ag_alert_suite(void);
Suite	*dbr_gtid_suite(void);
Suite	*ag_host_suite(void);
Suite	*ag_tail_suite(void);
Suite	*ag_access_suite(void);
Suite	*ag_spool_suite(void);

/* Directory of test fixtures (tests/data), from STACKD_TESTDATA. */
const char *testdata_dir(void);

#endif

/* tls_conf — configs: policy, certificates and keys, SNI, resumption. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>

#include "log.h"
#include "tls_int.h"

/* The policy. Server order wins (mbedTLS's default): AES-GCM first, it
 * runs on AES-NI here; ChaCha20 for clients without it. */
static const int tls_ciphersuites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0
};

static const mbedtls_ecp_group_id tls_curves[] = {
	MBEDTLS_ECP_DP_CURVE25519,
	MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_NONE
};

static const int tls_sig_hashes[] = {
	MBEDTLS_MD_SHA256,
	MBEDTLS_MD_SHA384,
	MBEDTLS_MD_SHA512,
	MBEDTLS_MD_NONE
};

#define TLS_RSA_MIN_BITS	2048

void
tls_errstr(char *buf, size_t len, int code, const char *fmt, ...)
{
	char	 what[TLS_ERRSTR_MAX], why[128];
	va_list	 ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	mbedtls_strerror(code, why, sizeof(why));
	snprintf(buf, len, "%s: %s", what, why);
}

/*
 * Read a whole PEM file, NUL-terminated (mbedTLS counts the NUL in the
 * length it is given for PEM). A key file must not be open to group or
 * others: checked on the descriptor we read, not on the path.
 */
static unsigned char *
read_pem(const char *path, bool is_key, size_t *lenp, char *err, size_t errlen)
{
	struct stat	 st;
	unsigned char	*data;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		seterr(err, errlen, "%s: fstat: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (is_key && (st.st_mode & 077) != 0) {
		seterr(err, errlen, "key file %s is readable by group or "
		    "others (mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return NULL;
	}
	if (st.st_size > TLS_FILE_MAX) {
		seterr(err, errlen, "%s: larger than %d bytes", path,
		    TLS_FILE_MAX);
		close(fd);
		return NULL;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	/* Stop at the size fstat saw: a file growing meanwhile is cut. */
	while (off < (size_t)st.st_size) {
		n = read(fd, data + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			seterr(err, errlen, "%s: read: %s", path,
			    n == 0 ? "unexpected end of file" : strerror(errno));
			mbedtls_platform_zeroize(data, off);
			free(data);
			close(fd);
			return NULL;
		}
		off += (size_t)n;
	}
	close(fd);
	data[off] = '\0';
	*lenp = off + 1;
	return data;
}

static void
free_pem(unsigned char *data, size_t len)
{
	if (data == NULL)
		return;
	mbedtls_platform_zeroize(data, len);
	free(data);
}

/* Load PEM certificates into crt. A CA bundle may hold a few that mbedTLS
 * cannot parse (logged); a certificate chain must parse completely. */
static int
load_crt(mbedtls_x509_crt *crt, const char *path, bool bundle, char *err,
    size_t errlen)
{
	unsigned char	*pem;
	size_t		 len;
	int		 ret;

	if ((pem = read_pem(path, false, &len, err, errlen)) == NULL)
		return -1;
	ret = mbedtls_x509_crt_parse(crt, pem, len);
	free_pem(pem, len);
	if (ret < 0) {
		tls_errstr(err, errlen, ret, "%s", path);
		return -1;
	}
	if (ret > 0 && (!bundle || crt->raw.p == NULL)) {
		seterr(err, errlen, "%s: %d certificate(s) could not be parsed",
		    path, ret);
		return -1;
	}
	if (ret > 0)
		log_warnx("%s: skipped %d certificate(s) that could not be "
		    "parsed", path, ret);
	return 0;
}

static int
load_key(mbedtls_pk_context *pk, const char *path, char *err, size_t errlen)
{
	unsigned char	*pem;
	size_t		 len;
	int		 ret;

	if ((pem = read_pem(path, true, &len, err, errlen)) == NULL)
		return -1;
	ret = mbedtls_pk_parse_key(pk, pem, len, NULL, 0);
	free_pem(pem, len);
	if (ret != 0) {
		tls_errstr(err, errlen, ret, "%s", path);
		return -1;
	}
	return 0;
}

/* Keep a DNS name for SNI, lower case. Names with a NUL (a classic
 * certificate trick) or too long for DNS are ignored: they match nothing. */
static int
cert_add_name(struct tls_cert *cert, const unsigned char *p, size_t len,
    const char *path, char *err, size_t errlen)
{
	char	*name;
	size_t	 i;

	if (len == 0 || len > TLS_NAME_MAX || memchr(p, '\0', len) != NULL)
		return 0;
	if (cert->nnames == TLS_NAMES_PER_CERT) {
		seterr(err, errlen, "%s: more than %d names in the certificate",
		    path, TLS_NAMES_PER_CERT);
		return -1;
	}
	if ((name = malloc(len + 1)) == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < len; i++)
		name[i] = (char)tolower(p[i]);
	name[len] = '\0';
	cert->names[cert->nnames++] = name;
	return 0;
}

/* The names SNI matches: subjectAltName DNS entries, or the CN without
 * a subjectAltName extension (RFC 6125 6.4.4). */
static int
cert_collect_names(struct tls_cert *cert, const char *path, char *err,
    size_t errlen)
{
	const mbedtls_x509_crt		*crt = &cert->chain;
	const mbedtls_x509_sequence	*san;
	const mbedtls_x509_name		*dn;

	cert->names = calloc(TLS_NAMES_PER_CERT, sizeof(*cert->names));
	if (cert->names == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (crt->ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME) {
		for (san = &crt->subject_alt_names; san != NULL;
		    san = san->next) {
			if (san->buf.tag != (MBEDTLS_ASN1_CONTEXT_SPECIFIC |
			    MBEDTLS_X509_SAN_DNS_NAME))
				continue;
			if (cert_add_name(cert, san->buf.p, san->buf.len, path,
			    err, errlen) == -1)
				return -1;
		}
		return 0;
	}
	for (dn = &crt->subject; dn != NULL; dn = dn->next) {
		if (dn->oid.p == NULL || MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN,
		    &dn->oid) != 0)
			continue;
		if (cert_add_name(cert, dn->val.p, dn->val.len, path, err,
		    errlen) == -1)
			return -1;
	}
	return 0;
}

static void
cert_free(struct tls_cert *cert)
{
	size_t	 i;

	if (cert == NULL)
		return;
	mbedtls_x509_crt_free(&cert->chain);
	mbedtls_pk_free(&cert->key);
	if (cert->names != NULL) {
		for (i = 0; i < cert->nnames; i++)
			free(cert->names[i]);
		free(cert->names);
	}
	free(cert);
}

/* A certificate chain and its key, checked to belong together. */
static struct tls_cert *
cert_load(const char *certfile, const char *keyfile, char *err, size_t errlen)
{
	struct tls_cert	*cert;
	int		 ret;

	if (certfile == NULL || keyfile == NULL) {
		seterr(err, errlen, "certificate and key file are both needed");
		return NULL;
	}
	if ((cert = calloc(1, sizeof(*cert))) == NULL) {
		seterr(err, errlen, "%s: %s", certfile, strerror(errno));
		return NULL;
	}
	mbedtls_x509_crt_init(&cert->chain);
	mbedtls_pk_init(&cert->key);
	if (load_crt(&cert->chain, certfile, false, err, errlen) == -1 ||
	    load_key(&cert->key, keyfile, err, errlen) == -1)
		goto fail;
	if (mbedtls_pk_can_do(&cert->key, MBEDTLS_PK_RSA)) {
		if (mbedtls_pk_get_bitlen(&cert->key) < TLS_RSA_MIN_BITS) {
			seterr(err, errlen, "%s: RSA key of %zu bits, at least "
			    "%d needed", keyfile,
			    mbedtls_pk_get_bitlen(&cert->key), TLS_RSA_MIN_BITS);
			goto fail;
		}
	} else if (!mbedtls_pk_can_do(&cert->key, MBEDTLS_PK_ECDSA)) {
		seterr(err, errlen, "%s: key type %s, only ECDSA and RSA are "
		    "supported", keyfile, mbedtls_pk_get_name(&cert->key));
		goto fail;
	}
	if ((ret = mbedtls_pk_check_pair(&cert->chain.pk, &cert->key)) != 0) {
		tls_errstr(err, errlen, ret, "key %s does not match the "
		    "certificate %s", keyfile, certfile);
		goto fail;
	}
	if (cert_collect_names(cert, certfile, err, errlen) == -1)
		goto fail;
	return cert;
fail:
	cert_free(cert);
	return NULL;
}

/* Exact name (case-insensitive), or "*.rest" matching one non-empty label
 * followed by ".rest". Patterns are stored lower case. */
static bool
name_matches(const char *pattern, const char *name, bool wildcard)
{
	const char	*dot;

	if (!wildcard)
		return strcasecmp(pattern, name) == 0;
	if (strncmp(pattern, "*.", 2) != 0)
		return false;
	if ((dot = strchr(name, '.')) == NULL || dot == name)
		return false;
	return strcasecmp(pattern + 1, dot) == 0;
}

/* Hand the handshake every certificate of the best match class (exact,
 * then wildcard); mbedTLS picks the first one the ciphersuite fits. With
 * no match the config's default certificate is used. */
int
tls_sni_select(void *arg, mbedtls_ssl_context *ssl, const unsigned char *name,
    size_t len)
{
	struct tls_config	*cfg = arg;
	struct tls_cert		*cert;
	char			 lname[TLS_NAME_MAX + 1];
	size_t			 i, j;
	int			 pass, found = 0;

	if (len > TLS_NAME_MAX || tls_conn_set_sni(ssl, name, len) == -1)
		return -1;
	for (i = 0; i < len; i++)
		lname[i] = (char)tolower(name[i]);
	lname[len] = '\0';
	for (pass = 0; pass < 2 && found == 0; pass++) {
		for (i = 0; i < cfg->ncerts; i++) {
			cert = cfg->certs[i];
			for (j = 0; j < cert->nnames; j++)
				if (name_matches(cert->names[j], lname,
				    pass == 1))
					break;
			if (j == cert->nnames)
				continue;
			if (mbedtls_ssl_set_hs_own_cert(ssl, &cert->chain,
			    &cert->key) != 0)
				return -1;
			found++;
		}
	}
	return 0;
}

/* Whether the certificate's subjectAltName lists this IP address. mbedTLS
 * 2.28 keeps no iPAddress entries (3.x does), so walk the extensions. The
 * certificate already parsed, so malformed input just means "no". */
bool
tls_crt_has_ip(const mbedtls_x509_crt *crt, const unsigned char *ip,
    size_t iplen)
{
	static const char san_oid[] = MBEDTLS_OID_SUBJECT_ALT_NAME;
	unsigned char	*p = crt->v3_ext.p, *end, *ext_end, *q, *q_end;
	size_t		 len, glen;
	int		 critical, tag;

	if (p == NULL)
		return false;
	end = p + crt->v3_ext.len;
	if (mbedtls_asn1_get_tag(&p, end, &len,
	    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
		return false;
	end = p + len;
	while (p < end) {
		if (mbedtls_asn1_get_tag(&p, end, &len,
		    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
			return false;
		ext_end = p + len;
		if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OID))
			return false;
		if (len != sizeof(san_oid) - 1 ||
		    memcmp(p, san_oid, len) != 0) {
			p = ext_end;
			continue;
		}
		p += len;
		(void)mbedtls_asn1_get_bool(&p, ext_end, &critical);
		if (mbedtls_asn1_get_tag(&p, ext_end, &len,
		    MBEDTLS_ASN1_OCTET_STRING) != 0 ||
		    mbedtls_asn1_get_tag(&p, ext_end, &len,
		    MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
			return false;
		q = p;
		q_end = p + len;
		while (q < q_end) {
			tag = *q++;
			if (mbedtls_asn1_get_len(&q, q_end, &glen) != 0)
				return false;
			if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) &&
			    glen == iplen && memcmp(q, ip, iplen) == 0)
				return true;
			q += glen;
		}
		return false;
	}
	return false;
}

/* What servers and clients share: RNG and the security policy. */
static struct tls_config *
config_new(int endpoint, char *err, size_t errlen)
{
	static const char	 pers[] = "stackd tls";
	struct tls_config	*cfg;
	int			 ret;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		seterr(err, errlen, "tls config: %s", strerror(errno));
		return NULL;
	}
	cfg->refs = 1;
	cfg->server = endpoint == MBEDTLS_SSL_IS_SERVER;
	mbedtls_ssl_config_init(&cfg->ssl);
	mbedtls_entropy_init(&cfg->entropy);
	mbedtls_ctr_drbg_init(&cfg->drbg);
	mbedtls_x509_crt_init(&cfg->ca);
	mbedtls_ssl_cache_init(&cfg->cache);
	mbedtls_ssl_ticket_init(&cfg->ticket);

	if ((ret = mbedtls_ctr_drbg_seed(&cfg->drbg, mbedtls_entropy_func,
	    &cfg->entropy, (const unsigned char *)pers, sizeof(pers) - 1))) {
		tls_errstr(err, errlen, ret, "tls config: seeding the RNG");
		goto fail;
	}
	if ((ret = mbedtls_ssl_config_defaults(&cfg->ssl, endpoint,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT))) {
		tls_errstr(err, errlen, ret, "tls config");
		goto fail;
	}
	mbedtls_ssl_conf_rng(&cfg->ssl, mbedtls_ctr_drbg_random, &cfg->drbg);
	mbedtls_ssl_conf_min_version(&cfg->ssl, MBEDTLS_SSL_MAJOR_VERSION_3,
	    MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&cfg->ssl, MBEDTLS_SSL_MAJOR_VERSION_3,
	    MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&cfg->ssl, tls_ciphersuites);
	mbedtls_ssl_conf_curves(&cfg->ssl, tls_curves);
	mbedtls_ssl_conf_sig_hashes(&cfg->ssl, tls_sig_hashes);
	mbedtls_ssl_conf_renegotiation(&cfg->ssl,
	    MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	mbedtls_ssl_conf_authmode(&cfg->ssl, MBEDTLS_SSL_VERIFY_NONE);
	return cfg;
fail:
	tls_config_free(cfg);
	return NULL;
}

void
tls_server_opts_default(struct tls_server_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->ticket_lifetime = TLS_TICKET_LIFETIME_DEFAULT;
	opts->cache_entries = TLS_CACHE_ENTRIES_DEFAULT;
	opts->cache_timeout = TLS_CACHE_TIMEOUT_DEFAULT;
}

struct tls_config *
tls_server_new(const struct tls_server_opts *opts, char *err, size_t errlen)
{
	struct tls_server_opts	 defaults;
	struct tls_config	*cfg;
	int			 ret;

	if (opts == NULL) {
		tls_server_opts_default(&defaults);
		opts = &defaults;
	}
	if (opts->cache_entries > INT_MAX || opts->cache_timeout > INT_MAX) {
		seterr(err, errlen, "tls: session cache of %zu entries, %u s "
		    "is out of range", opts->cache_entries,
		    opts->cache_timeout);
		return NULL;
	}
	if (opts->require_client_cert && opts->client_ca == NULL) {
		seterr(err, errlen, "tls: client certificates need a CA file");
		return NULL;
	}
	if ((cfg = config_new(MBEDTLS_SSL_IS_SERVER, err, errlen)) == NULL)
		return NULL;
	mbedtls_ssl_conf_sni(&cfg->ssl, tls_sni_select, cfg);

	if (opts->cache_entries > 0) {
		mbedtls_ssl_cache_set_max_entries(&cfg->cache,
		    (int)opts->cache_entries);
		/* 0 would mean "never expires" to mbedTLS. */
		mbedtls_ssl_cache_set_timeout(&cfg->cache,
		    opts->cache_timeout ? (int)opts->cache_timeout :
		    TLS_CACHE_TIMEOUT_DEFAULT);
		mbedtls_ssl_conf_session_cache(&cfg->ssl, &cfg->cache,
		    mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
		cfg->has_cache = true;
	}
	if (opts->ticket_lifetime > 0) {
		if ((ret = mbedtls_ssl_ticket_setup(&cfg->ticket,
		    mbedtls_ctr_drbg_random, &cfg->drbg,
		    MBEDTLS_CIPHER_AES_256_GCM, opts->ticket_lifetime))) {
			tls_errstr(err, errlen, ret, "tls: session tickets");
			goto fail;
		}
		mbedtls_ssl_conf_session_tickets_cb(&cfg->ssl,
		    mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse,
		    &cfg->ticket);
		cfg->has_tickets = true;
	}
	if (opts->require_client_cert) {
		if (load_crt(&cfg->ca, opts->client_ca, true, err, errlen))
			goto fail;
		mbedtls_ssl_conf_ca_chain(&cfg->ssl, &cfg->ca, NULL);
		mbedtls_ssl_conf_authmode(&cfg->ssl,
		    MBEDTLS_SSL_VERIFY_REQUIRED);
	}
	return cfg;
fail:
	tls_config_free(cfg);
	return NULL;
}

static int
config_add_cert(struct tls_config *cfg, const char *certfile,
    const char *keyfile, char *err, size_t errlen)
{
	struct tls_cert	*cert;
	int		 ret;

	if (cfg->frozen) {
		seterr(err, errlen, "%s: config already in use", certfile);
		return -1;
	}
	if (cfg->ncerts == TLS_MAX_CERTS || (!cfg->server && cfg->ncerts)) {
		seterr(err, errlen, "%s: more than %d certificates", certfile,
		    cfg->server ? TLS_MAX_CERTS : 1);
		return -1;
	}
	if ((cert = cert_load(certfile, keyfile, err, errlen)) == NULL)
		return -1;
	if (cfg->ncerts == 0 && (ret = mbedtls_ssl_conf_own_cert(&cfg->ssl,
	    &cert->chain, &cert->key)) != 0) {
		tls_errstr(err, errlen, ret, "%s", certfile);
		cert_free(cert);
		return -1;
	}
	cfg->certs[cfg->ncerts++] = cert;
	return 0;
}

int
tls_server_add_cert(struct tls_config *cfg, const char *certfile,
    const char *keyfile, char *err, size_t errlen)
{
	if (!cfg->server) {
		seterr(err, errlen, "%s: not a server config", certfile);
		return -1;
	}
	return config_add_cert(cfg, certfile, keyfile, err, errlen);
}

struct tls_config *
tls_client_new(const char *cafile, bool verify, const char *certfile,
    const char *keyfile, char *err, size_t errlen)
{
	struct tls_config	*cfg;

	if (verify && cafile == NULL) {
		seterr(err, errlen, "tls: verifying the server needs a CA file");
		return NULL;
	}
	if ((certfile == NULL) != (keyfile == NULL)) {
		seterr(err, errlen, "tls: client certificate and key go "
		    "together");
		return NULL;
	}
	if ((cfg = config_new(MBEDTLS_SSL_IS_CLIENT, err, errlen)) == NULL)
		return NULL;
	if (verify) {
		if (load_crt(&cfg->ca, cafile, true, err, errlen) == -1)
			goto fail;
		mbedtls_ssl_conf_ca_chain(&cfg->ssl, &cfg->ca, NULL);
		mbedtls_ssl_conf_authmode(&cfg->ssl,
		    MBEDTLS_SSL_VERIFY_REQUIRED);
		cfg->verify = true;
	}
	if (certfile != NULL &&
	    config_add_cert(cfg, certfile, keyfile, err, errlen) == -1)
		goto fail;
	return cfg;
fail:
	tls_config_free(cfg);
	return NULL;
}

struct tls_config *
tls_config_ref(struct tls_config *cfg)
{
	if (cfg != NULL) {
		if (cfg->refs == UINT_MAX)
			fatalx("%s: reference count overflow", __func__);
		cfg->refs++;
	}
	return cfg;
}

int
tls_config_forked(struct tls_config *cfg, char *err, size_t errlen)
{
	pid_t	 pid = getpid();
	int	 ret;

	if (cfg == NULL)
		return 0;
	/* Fresh entropy, and the pid as additional input. */
	if ((ret = mbedtls_ctr_drbg_reseed(&cfg->drbg,
	    (const unsigned char *)&pid, sizeof(pid))) != 0) {
		tls_errstr(err, errlen, ret, "tls config: reseeding the RNG");
		return -1;
	}
	/* The inherited ticket keys draw their nonces from that config's. */
	return tls_config_forked(cfg->sessions, err, errlen);
}

void
tls_config_inherit_sessions(struct tls_config *nc, struct tls_config *old)
{
	struct tls_config *from;

	if (nc == NULL || old == NULL || !nc->server || !old->server ||
	    nc->frozen || nc->sessions != NULL)
		return;
	/* Always the first config's: a chain of reloads is not a chain. */
	from = old->sessions != NULL ? old->sessions : old;
	if (nc->has_cache && from->has_cache)
		mbedtls_ssl_conf_session_cache(&nc->ssl, &from->cache,
		    mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
	if (nc->has_tickets && from->has_tickets)
		mbedtls_ssl_conf_session_tickets_cb(&nc->ssl,
		    mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse,
		    &from->ticket);
	nc->sessions = tls_config_ref(from);
}

void
tls_config_free(struct tls_config *cfg)
{
	size_t	 i;

	if (cfg == NULL)
		return;
	if (cfg->refs == 0)
		fatalx("%s: config freed twice", __func__);
	if (--cfg->refs > 0)
		return;
	mbedtls_ssl_config_free(&cfg->ssl);
	for (i = 0; i < cfg->ncerts; i++)
		cert_free(cfg->certs[i]);
	mbedtls_x509_crt_free(&cfg->ca);
	mbedtls_ssl_cache_free(&cfg->cache);
	mbedtls_ssl_ticket_free(&cfg->ticket);
	mbedtls_ctr_drbg_free(&cfg->drbg);
	mbedtls_entropy_free(&cfg->entropy);
	tls_config_free(cfg->sessions);
	free(cfg);
}

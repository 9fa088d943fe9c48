/* net — socket addresses, listening and connecting sockets, CIDR matching. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "net.h"

#define UNIX_PREFIX	"unix:"
#define SUN_PATH_MAX	sizeof(((struct sockaddr_un *)NULL)->sun_path)

_Static_assert(NET_ADDRSTRLEN >= sizeof(UNIX_PREFIX) + SUN_PATH_MAX,
    "NET_ADDRSTRLEN too small for a unix path");
_Static_assert(NET_ADDRSTRLEN >= INET6_ADDRSTRLEN + IF_NAMESIZE + 9,
    "NET_ADDRSTRLEN too small for [v6%if]:port");
_Static_assert(NET_CIDRSTRLEN >= INET6_ADDRSTRLEN + 4,
    "NET_CIDRSTRLEN too small");

/* An address split into host and port, before any conversion. */
struct hostport {
	char		 host[NI_MAXHOST];
	bool		 bracketed;	/* [v6] */
	bool		 any;		/* "", "*": the v4 any address */
	uint16_t	 port;
};

/* Decimal digits only (no sign, no spaces), at most max. */
static int
parse_decimal(const char *p, unsigned long max, unsigned long *out)
{
	unsigned long	 v = 0;

	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > max)
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_port(const char *whole, const char *p, uint16_t *port,
    char *err, size_t errlen)
{
	unsigned long	 v;
	size_t		 len = strlen(p);

	if (parse_decimal(p, 65535, &v) == 0) {
		*port = (uint16_t)v;
		return 0;
	}
	if (len == 0)
		seterr(err, errlen, "%s: missing port after ':'", whole);
	else if (len <= 5 && strspn(p, "0123456789") == len)
		seterr(err, errlen, "%s: port %s out of range (1-65535)",
		    whole, p);
	else
		seterr(err, errlen, "%s: bad port '%s'", whole, p);
	return -1;
}

static int
split_hostport(const char *s, uint16_t default_port, struct hostport *hp,
    char *err, size_t errlen)
{
	const char	*host, *rest, *colon;
	size_t		 hostlen;

	memset(hp, 0, sizeof(*hp));
	if (*s == '\0')
		return seterr(err, errlen, "empty address");
	if (*s == '[') {
		host = s + 1;
		if ((rest = strchr(host, ']')) == NULL)
			return seterr(err, errlen, "%s: missing ']'", s);
		hostlen = (size_t)(rest - host);
		rest++;
		if (hostlen == 0)
			return seterr(err, errlen, "%s: empty address in "
			    "brackets", s);
		if (*rest != '\0' && *rest != ':')
			return seterr(err, errlen, "%s: expected ':port' "
			    "after ']'", s);
		hp->bracketed = true;
	} else {
		host = s;
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return seterr(err, errlen, "%s: IPv6 addresses need "
			    "brackets, as in [::1]:443", s);
		rest = colon != NULL ? colon : s + strlen(s);
		hostlen = (size_t)(rest - host);
	}
	if (hostlen >= sizeof(hp->host))
		return seterr(err, errlen, "%.40s...: host name too long "
		    "(%zu bytes)", s, hostlen);
	memcpy(hp->host, host, hostlen);
	hp->host[hostlen] = '\0';
	if (!hp->bracketed && (hostlen == 0 || strcmp(hp->host, "*") == 0))
		hp->any = true;

	if (*rest == ':')
		return parse_port(s, rest + 1, &hp->port, err, errlen);
	if (default_port == 0)
		return seterr(err, errlen, "%s: port required", s);
	hp->port = default_port;
	return 0;
}

/* A Unix address for path; spec is what the user wrote, for errors. */
static int
unix_addr(const char *spec, const char *path, struct net_addr *out,
    char *err, size_t errlen)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
	size_t		 len = strlen(path);

	if (len == 0 || len >= sizeof(sun->sun_path)) {
		if (len == 0)
			seterr(err, errlen, "empty unix socket path");
		else
			seterr(err, errlen, "unix socket path too long (%zu "
			    "bytes, at most %zu): %s", len,
			    sizeof(sun->sun_path) - 1, spec);
		errno = len == 0 ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	memset(out, 0, sizeof(*out));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    len + 1);
	return 0;
}

/* Convert a split address without looking names up: 0, -1 and err, or 1
 * when the host is a name (left to the caller to resolve or refuse). */
static int
numeric_addr(const char *s, const struct hostport *hp, struct net_addr *out,
    char *err, size_t errlen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&out->ss;
	char			 host[sizeof(hp->host)], *scope;
	unsigned long		 idx;

	memset(out, 0, sizeof(*out));
	if (!hp->bracketed) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(hp->port);
		out->len = sizeof(*sin);
		if (hp->any) {
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
			return 0;
		}
		return inet_pton(AF_INET, hp->host, &sin->sin_addr) == 1 ?
		    0 : 1;
	}

	memcpy(host, hp->host, sizeof(host));
	if ((scope = strchr(host, '%')) != NULL)
		*scope++ = '\0';
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(hp->port);
	out->len = sizeof(*sin6);
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return seterr(err, errlen, "%s: bad IPv6 address '%s'", s,
		    host);
	if (scope == NULL)
		return 0;
	if (*scope == '\0')
		return seterr(err, errlen, "%s: empty scope after '%%'", s);
	if ((sin6->sin6_scope_id = if_nametoindex(scope)) != 0)
		return 0;
	if (parse_decimal(scope, UINT32_MAX, &idx) == -1 || idx == 0)
		return seterr(err, errlen, "%s: unknown interface '%s'", s,
		    scope);
	sin6->sin6_scope_id = (uint32_t)idx;
	return 0;
}

static int
resolve_name(const char *s, const struct hostport *hp, struct net_addr *out,
    size_t max, size_t *n, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	struct net_addr	 a;
	size_t		 i;
	int		 gerr;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gerr = getaddrinfo(hp->host, NULL, &hints, &res)) != 0)
		return seterr(err, errlen, "%s: %s", s, gerr == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(gerr));
	*n = 0;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(a.ss))
			continue;
		memset(&a, 0, sizeof(a));
		memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
		a.len = ai->ai_addrlen;
		if (a.ss.ss_family == AF_INET)
			((struct sockaddr_in *)&a.ss)->sin_port =
			    htons(hp->port);
		else
			((struct sockaddr_in6 *)&a.ss)->sin6_port =
			    htons(hp->port);
		for (i = 0; i < *n; i++)
			if (net_addr_equal(&out[i], &a))
				break;
		if (i < *n)
			continue;
		if (*n == max) {
			seterr(err, errlen, "%s: resolves to more than %zu "
			    "addresses", s, max);
			freeaddrinfo(res);
			return -1;
		}
		out[(*n)++] = a;
	}
	freeaddrinfo(res);
	if (*n == 0)
		return seterr(err, errlen, "%s: no IPv4 or IPv6 address", s);
	return 0;
}

/* s into out[0..*n); host names go to getaddrinfo only when resolve. */
static int
addr_lookup(const char *s, uint16_t default_port, bool resolve,
    struct net_addr *out, size_t max, size_t *n, char *err, size_t errlen)
{
	struct hostport	 hp;
	struct net_addr	 a;
	int		 rc;

	*n = 0;
	if (strncmp(s, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0)
		rc = unix_addr(s, s + strlen(UNIX_PREFIX), &a, err, errlen);
	else if ((rc = split_hostport(s, default_port, &hp, err,
	    errlen)) == 0 &&
	    (rc = numeric_addr(s, &hp, &a, err, errlen)) == 1) {
		if (resolve)
			return resolve_name(s, &hp, out, max, n, err, errlen);
		seterr(err, errlen, "%s: '%s' is not a numeric IPv4 address "
		    "(IPv6 goes in brackets; host names are not resolved here)",
		    s, hp.host);
		return -1;
	}
	if (rc == -1)
		return -1;
	if (max == 0)
		return seterr(err, errlen, "%s: resolves to more than 0 "
		    "addresses", s);
	out[0] = a;
	*n = 1;
	return 0;
}

int
net_addr_parse(const char *s, uint16_t default_port, struct net_addr *out,
    char *err, size_t errlen)
{
	size_t	 n;

	return addr_lookup(s, default_port, false, out, 1, &n, err, errlen);
}

int
net_addr_resolve(const char *s, uint16_t default_port, struct net_addr *out,
    size_t max, size_t *n, char *err, size_t errlen)
{
	return addr_lookup(s, default_port, true, out, max, n, err, errlen);
}

/* Bytes of sun_path that name the socket: up to the NUL for a path,
 * everything for an abstract name. */
static size_t
sun_namelen(const struct net_addr *a)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->ss;
	size_t	 off = offsetof(struct sockaddr_un, sun_path), n;

	n = a->len > off ? a->len - off : 0;
	if (n > sizeof(sun->sun_path))
		n = sizeof(sun->sun_path);
	if (n > 0 && sun->sun_path[0] != '\0')
		n = strnlen(sun->sun_path, n);
	return n;
}

const char *
net_addr_str(const struct net_addr *a, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->ss;
	char	 host[INET6_ADDRSTRLEN], scope[IF_NAMESIZE + 1];
	size_t	 pathlen;
	int	 n;

	switch (a->ss.ss_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		n = snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		scope[0] = '\0';
		if (sin6->sin6_scope_id != 0 &&
		    if_indextoname(sin6->sin6_scope_id, scope + 1) != NULL)
			scope[0] = '%';
		else if (sin6->sin6_scope_id != 0)
			snprintf(scope, sizeof(scope), "%%%u",
			    sin6->sin6_scope_id);
		n = snprintf(buf, len, "[%s%s]:%u", host, scope,
		    ntohs(sin6->sin6_port));
		break;
	case AF_UNIX:
		pathlen = sun_namelen(a);
		if (pathlen > 0 && sun->sun_path[0] == '\0')
			n = snprintf(buf, len, UNIX_PREFIX "@%.*s",
			    (int)pathlen - 1, sun->sun_path + 1);
		else
			n = snprintf(buf, len, UNIX_PREFIX "%.*s",
			    (int)pathlen, sun->sun_path);
		break;
	default:
		n = snprintf(buf, len, "(address family %d)", a->ss.ss_family);
		break;
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENOSPC;
		return NULL;
	}
	return buf;
}

int
net_addr_host(const struct net_addr *a, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
	char	 host[INET6_ADDRSTRLEN] = "";

	if (a->ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
	else if (a->ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
	return snprintf(buf, len, "%s", host);
}

uint16_t
net_addr_port(const struct net_addr *a)
{
	switch (a->ss.ss_family) {
	case AF_INET:
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	case AF_INET6:
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	default:
		return 0;
	}
}

bool
net_addr_equal(const struct net_addr *a, const struct net_addr *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)&b->ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a->ss;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&b->ss;
	const struct sockaddr_un *au = (const struct sockaddr_un *)&a->ss;
	const struct sockaddr_un *bu = (const struct sockaddr_un *)&b->ss;
	size_t	 n;

	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	switch (a->ss.ss_family) {
	case AF_INET:
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr &&
		    a4->sin_port == b4->sin_port;
	case AF_INET6:
		return memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0 &&
		    a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id;
	case AF_UNIX:
		n = sun_namelen(a);
		return n == sun_namelen(b) &&
		    memcmp(au->sun_path, bu->sun_path, n) == 0;
	default:
		return false;
	}
}

int
net_local_addr(int fd, struct net_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->ss);
	return getsockname(fd, (struct sockaddr *)&out->ss, &out->len);
}

/* Socket options of a listener; which ones apply depends on the family
 * and the flags. */
static const struct {
	int	 level, name;
	int	 family;	/* 0: any */
	unsigned flag;		/* 0: always */
} listen_opts[] = {
	{ SOL_SOCKET, SO_REUSEADDR, 0, 0 },
	{ SOL_SOCKET, SO_REUSEPORT, 0, NET_REUSEPORT },
	{ IPPROTO_IPV6, IPV6_V6ONLY, AF_INET6, 0 },
};

/* socket, options, bind, listen. A Unix socket file is created with
 * exactly mode: bind() makes it 0777 & ~umask, so the umask is set for the
 * call and no moment exists where the socket is wider open (the daemons
 * are single-threaded, see DESIGN). */
static int
listen_socket(const struct net_addr *a, unsigned flags, int backlog,
    mode_t mode, char *err, size_t errlen)
{
	const char	*path = ((const struct sockaddr_un *)&a->ss)->sun_path;
	char		 name[NET_ADDRSTRLEN];
	int		 fd, rc, saved, one = 1, family = a->ss.ss_family;
	mode_t		 old_umask = 0;
	size_t		 i;

	if (net_addr_str(a, name, sizeof(name)) == NULL)
		fatalx("listen_socket: NET_ADDRSTRLEN too small");
	if ((fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return seterr(err, errlen, "listen %s: socket: %s", name,
		    strerror(errno));
	for (i = 0; i < sizeof(listen_opts) / sizeof(listen_opts[0]); i++) {
		if ((listen_opts[i].family != 0 &&
		    listen_opts[i].family != family) ||
		    (listen_opts[i].flag != 0 &&
		    !(flags & listen_opts[i].flag)))
			continue;
		if (setsockopt(fd, listen_opts[i].level, listen_opts[i].name,
		    &one, sizeof(one)) == -1) {
			saved = errno;
			seterr(err, errlen, "listen %s: setsockopt: %s", name,
			    strerror(saved));
			goto fail;
		}
	}
	if (family == AF_UNIX)
		old_umask = umask(~mode & 0777);
	rc = bind(fd, (const struct sockaddr *)&a->ss, a->len);
	saved = errno;
	if (family == AF_UNIX)
		umask(old_umask);
	if (rc == -1) {
		seterr(err, errlen, "bind %s: %s", name, strerror(saved));
		goto fail;
	}
	if (listen(fd, backlog > 0 ? backlog : SOMAXCONN) == -1) {
		saved = errno;
		seterr(err, errlen, "listen %s: %s", name, strerror(saved));
		if (family == AF_UNIX)
			unlink(path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	errno = saved;
	return -1;
}

int
net_listen(const struct net_addr *a, int backlog, unsigned flags,
    char *err, size_t errlen)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->ss;
	char	 path[SUN_PATH_MAX + 1];
	size_t	 n;

	switch (a->ss.ss_family) {
	case AF_INET:
	case AF_INET6:
		return listen_socket(a, flags, backlog, 0, err, errlen);
	case AF_UNIX:
		n = sun_namelen(a);
		if (n == 0 || sun->sun_path[0] == '\0')
			break;
		memcpy(path, sun->sun_path, n);
		path[n] = '\0';
		return net_listen_unix(path, NET_UNIX_MODE, backlog, err,
		    errlen);
	}
	seterr(err, errlen, "net_listen: cannot listen on address family %d "
	    "(or an unnamed or abstract unix socket)", a->ss.ss_family);
	errno = EAFNOSUPPORT;
	return -1;
}

/* Make room for a Unix socket at path: nothing there is fine, a socket
 * file with no listener behind it is removed, anything else is refused. */
static int
unix_clear_stale(const char *path, const struct net_addr *a,
    char *err, size_t errlen)
{
	struct stat	 st;
	int		 fd;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		return seterr(err, errlen, "unix:%s: %s", path,
		    strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode)) {
		seterr(err, errlen, "unix:%s: exists and is not a socket",
		    path);
		errno = EEXIST;
		return -1;
	}
	/* Unix connects finish at once. EAGAIN: a listener with a full
	 * backlog; EPROTOTYPE: a live datagram socket. */
	if ((fd = net_connect(a, NULL, 0)) != -1 || errno == EAGAIN ||
	    errno == EPROTOTYPE) {
		if (fd != -1)
			close(fd);
		seterr(err, errlen, "unix:%s: address in use (another process "
		    "is listening)", path);
		errno = EADDRINUSE;
		return -1;
	}
	if (errno != ECONNREFUSED)
		return seterr(err, errlen, "unix:%s: cannot tell whether the "
		    "socket is in use: %s", path, strerror(errno));
	if (unlink(path) == -1 && errno != ENOENT)
		return seterr(err, errlen, "unix:%s: removing stale socket: "
		    "%s", path, strerror(errno));
	log_debug("unix:%s: removed stale socket", path);
	return 0;
}

int
net_listen_unix(const char *path, mode_t mode, int backlog,
    char *err, size_t errlen)
{
	struct net_addr	 a;

	if (unix_addr(path, path, &a, err, errlen) == -1 ||
	    unix_clear_stale(path, &a, err, errlen) == -1)
		return -1;
	return listen_socket(&a, 0, backlog, mode, err, errlen);
}

int
net_accept(int lfd, struct net_addr *peer)
{
	if (peer == NULL)
		return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	memset(peer, 0, sizeof(*peer));
	peer->len = sizeof(peer->ss);
	return accept4(lfd, (struct sockaddr *)&peer->ss, &peer->len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int
net_connect(const struct net_addr *a, char *err, size_t errlen)
{
	char	 name[NET_ADDRSTRLEN];
	int	 fd, saved;

	if (net_addr_str(a, name, sizeof(name)) == NULL)
		fatalx("net_connect: NET_ADDRSTRLEN too small");
	if ((fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return seterr(err, errlen, "connect %s: socket: %s", name,
		    strerror(errno));
	/* EINTR: the connect goes on in the background, as EINPROGRESS. */
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0 ||
	    errno == EINPROGRESS || errno == EINTR)
		return fd;
	saved = errno;
	seterr(err, errlen, "connect %s: %s", name, strerror(saved));
	close(fd);
	errno = saved;
	return -1;
}

int
net_connect_finish(int fd)
{
	int		 soerr = 0;
	socklen_t	 len = sizeof(soerr);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

int
net_set_nonblock(int fd, bool on)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

/* The address family of a socket, or -1. */
static int
sock_family(int fd)
{
	int		 family;
	socklen_t	 len = sizeof(family);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) == -1)
		return -1;
	return family;
}

int
net_set_nodelay(int fd)
{
	int	 one = 1;

	/* Called per accepted connection: try the option rather than ask
	 * the family first; on a unix socket it is a no-op. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
		return 0;
	return errno == EOPNOTSUPP || errno == ENOPROTOOPT ? 0 : -1;
}

int
net_set_keepalive(int fd, bool on, int idle_sec)
{
	int	 family, v = on;

	if ((family = sock_family(fd)) == -1 || family == AF_UNIX)
		return family == -1 ? -1 : 0;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)) == -1)
		return -1;
	if (!on || idle_sec <= 0)
		return 0;
	return setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_sec,
	    sizeof(idle_sec)) == -1 || setsockopt(fd, IPPROTO_TCP,
	    TCP_KEEPINTVL, &idle_sec, sizeof(idle_sec)) == -1 ? -1 : 0;
}

/* Clear the bits of addr past prefix. */
static void
cidr_mask(uint8_t *addr, size_t addrlen, unsigned prefix)
{
	size_t	 i;

	for (i = 0; i < addrlen; i++, prefix = prefix > 8 ? prefix - 8 : 0)
		if (prefix < 8)
			addr[i] &= (uint8_t)(0xff << (8 - prefix));
}

static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	size_t	 full = prefix / 8;
	unsigned rem = prefix % 8;
	uint8_t	 mask;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rem == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rem));
	return (a[full] & mask) == (b[full] & mask);
}

int
net_cidr_parse(const char *s, struct net_cidr *out, char *err, size_t errlen)
{
	char		 addr[INET6_ADDRSTRLEN], want[NET_CIDRSTRLEN];
	const char	*slash = strchr(s, '/');
	struct net_cidr	 c, masked;
	size_t		 alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	size_t		 addrlen;
	unsigned long	 prefix, max;

	if (alen == 0)
		return seterr(err, errlen, "%s: missing address", s);
	if (alen >= sizeof(addr))
		return seterr(err, errlen, "%.20s...: bad address (too long)",
		    s);
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(&c, 0, sizeof(c));
	c.family = inet_pton(AF_INET, addr, c.addr) == 1 ? AF_INET :
	    inet_pton(AF_INET6, addr, c.addr) == 1 ? AF_INET6 : AF_UNSPEC;
	if (c.family == AF_UNSPEC)
		return seterr(err, errlen, "%s: bad address '%s'", s, addr);
	addrlen = c.family == AF_INET ? 4 : 16;
	prefix = max = addrlen * 8;
	if (slash != NULL && slash[1] == '\0')
		return seterr(err, errlen, "%s: missing prefix length after "
		    "'/'", s);
	if (slash != NULL && parse_decimal(slash + 1, max, &prefix) == -1)
		return seterr(err, errlen, "%s: bad prefix length '%s' "
		    "(0-%lu)", s, slash + 1, max);
	c.prefix = (uint8_t)prefix;
	masked = c;
	cidr_mask(masked.addr, addrlen, c.prefix);
	if (memcmp(masked.addr, c.addr, addrlen) != 0) {
		if (net_cidr_str(&masked, want, sizeof(want)) == NULL)
			fatalx("net_cidr_parse: NET_CIDRSTRLEN too small");
		return seterr(err, errlen, "%s: host bits set, did you mean "
		    "%s", s, want);
	}
	*out = c;
	return 0;
}

bool
net_cidr_match(const struct net_cidr *c, const struct net_addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
	const uint8_t	*bytes;

	switch (a->ss.ss_family) {
	case AF_INET:
		if (c->family != AF_INET)
			return false;
		bytes = (const uint8_t *)&sin->sin_addr;
		break;
	case AF_INET6:
		if (c->family == AF_INET6)
			bytes = sin6->sin6_addr.s6_addr;
		else if (c->family == AF_INET &&
		    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			bytes = sin6->sin6_addr.s6_addr + 12;
		else
			return false;
		break;
	default:
		return false;
	}
	return prefix_equal(c->addr, bytes, c->prefix);
}

const char *
net_cidr_str(const struct net_cidr *c, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];
	int	 n;

	if (inet_ntop(c->family, c->addr, host, sizeof(host)) == NULL)
		snprintf(host, sizeof(host), "(family %d)", c->family);
	n = snprintf(buf, len, "%s/%u", host, c->prefix);
	if (n < 0 || (size_t)n >= len) {
		errno = ENOSPC;
		return NULL;
	}
	return buf;
}

/* net — socket addresses, listening and connecting sockets, CIDR matching.
 *
 * Address syntax (configuration files, command lines, messages):
 *
 *	1.2.3.4:80  1.2.3.4		IPv4, the second with the default port
 *	*:80  :80			IPv4 any address (INADDR_ANY)
 *	[::1]:443  [::]:80  [::1]	IPv6 in brackets, [::] is the v6 any
 *	[fe80::1%lo]:80			IPv6 with a scope (interface or index)
 *	unix:/run/stackd/lbd.sock	Unix-domain socket path
 *
 * Port 0 is accepted only when written out and means "ephemeral" (the
 * kernel picks one at bind; net_local_addr tells which). Host names are
 * looked up only by net_addr_resolve. Every socket this module creates is
 * non-blocking and close-on-exec. Nothing here keeps state between calls. */
#ifndef STACKD_NET_H
#define STACKD_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct net_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;	/* bytes of ss in use */
};

/* Longest net_addr_str() result with its NUL: "unix:" and a full sun_path,
 * which is longer than "[v6%ifname]:65535". */
#define NET_ADDRSTRLEN		128
/* Longest net_cidr_str() result with its NUL: a v6 address and "/128". */
#define NET_CIDRSTRLEN		(46 + 4)

/* Mode of Unix sockets made by net_listen (the control socket mode). */
#define NET_UNIX_MODE		0660

/* net_listen flags */
#define NET_REUSEPORT		0x01	/* SO_REUSEPORT: workers share a port */

/* Parse a numeric address (see the syntax above). default_port is used when
 * the port is left out; 0 means a port is required. 0 or -1 and err. */
int	 net_addr_parse(const char *s, uint16_t default_port,
	    struct net_addr *out, char *err, size_t errlen);
/* Like net_addr_parse, but a host that is not numeric is looked up with
 * getaddrinfo (both families). This BLOCKS on DNS: call it only while
 * reading the configuration, never from the event loop. Fills out[0..*n),
 * duplicates removed; more than max results is an error, not a cut. */
int	 net_addr_resolve(const char *s, uint16_t default_port,
	    struct net_addr *out, size_t max, size_t *n,
	    char *err, size_t errlen);
/* "1.2.3.4:80", "[::1]:443", "[fe80::1%lo]:80", "unix:/path" (an unbound
 * Unix peer is "unix:", an abstract one "unix:@name") into buf and return
 * buf. A buffer of NET_ADDRSTRLEN always suffices; a smaller one that is
 * too small gives NULL with errno ENOSPC. */
const char *net_addr_str(const struct net_addr *, char *buf, size_t len);
/* The numeric host alone: "10.0.0.1", "::1" (no brackets, no port), ""
 * for a Unix socket. The length net_addr_str would give, like snprintf. */
int	 net_addr_host(const struct net_addr *, char *buf, size_t len);
/* Port in host order, 0 for Unix sockets. */
uint16_t net_addr_port(const struct net_addr *);
/* Same family, address, port (and v6 scope) or same Unix path. */
bool	 net_addr_equal(const struct net_addr *, const struct net_addr *);
/* getsockname(): the address fd is bound to (learns an ephemeral port). */
int	 net_local_addr(int fd, struct net_addr *);

/* A listening socket bound to addr: SO_REUSEADDR always, SO_REUSEPORT with
 * NET_REUSEPORT, IPV6_V6ONLY for v6. Unix addresses go to net_listen_unix
 * with NET_UNIX_MODE. backlog <= 0 means SOMAXCONN. Returns the fd, or -1
 * and err naming the address. */
int	 net_listen(const struct net_addr *, int backlog, unsigned flags,
	    char *err, size_t errlen);
/* A listening Unix stream socket at path with the given mode. An existing
 * socket file nobody listens on (stale, left by a crash) is replaced; one
 * with a listener fails with "address in use" (errno EADDRINUSE); any
 * other kind of file is refused. The process umask is changed around
 * bind() so the socket never exists with a wider mode (single-threaded
 * daemons: see DESIGN). */
int	 net_listen_unix(const char *path, mode_t mode, int backlog,
	    char *err, size_t errlen);
/* accept4() non-blocking and close-on-exec; peer may be NULL. Returns the
 * fd, or -1 with errno (EAGAIN when none is waiting, EMFILE, ...). */
int	 net_accept(int lfd, struct net_addr *peer);
/* Start a non-blocking connect. Returns the fd with the connect possibly
 * still in progress: wait until it is writable, then net_connect_finish.
 * -1 and err when it fails at once. */
int	 net_connect(const struct net_addr *, char *err, size_t errlen);
/* The outcome of a connect: 0, or -1 with errno taken from SO_ERROR. */
int	 net_connect_finish(int fd);

int	 net_set_nonblock(int fd, bool on);
/* TCP_NODELAY; a no-op returning 0 on Unix sockets. */
int	 net_set_nodelay(int fd);
/* SO_KEEPALIVE on or off; idle_sec > 0 also sets the idle time before the
 * first probe (TCP_KEEPIDLE) and the probe interval. No-op on Unix sockets. */
int	 net_set_keepalive(int fd, bool on, int idle_sec);

struct net_cidr {
	sa_family_t	 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];	/* network order, 4 bytes used for v4 */
	uint8_t		 prefix;	/* 0-32 or 0-128 */
};

/* "10.0.0.0/8", "192.168.1.7" (/32), "2001:db8::/32", "::1" (/128). Host
 * bits set past the prefix are refused, with the network meant. */
int	 net_cidr_parse(const char *s, struct net_cidr *,
	    char *err, size_t errlen);
/* An IPv4 CIDR also matches IPv4-mapped IPv6 addresses (::ffff:1.2.3.4),
 * as seen on dual-stack sockets. A v6 CIDR matches v6 addresses only.
 * Unix addresses match nothing. */
bool	 net_cidr_match(const struct net_cidr *, const struct net_addr *);
/* "10.0.0.0/8" into buf (NET_CIDRSTRLEN suffices); NULL/ENOSPC if short. */
const char *net_cidr_str(const struct net_cidr *, char *buf, size_t len);

#endif

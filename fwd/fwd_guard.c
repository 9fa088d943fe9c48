/* fwd_guard — would a ruleset lock out a current SSH session?
 *
 * Established connections are accepted by the ruleset's first rule, so a
 * new policy never cuts a live session while conntrack remembers it. What
 * it can do is refuse the next connection from the same place: the session
 * that dies (network blip, conntrack flush, a reboot of this host) cannot
 * come back, which is the lock-out operators fear. So "would drop" is
 * decided for a NEW packet: for each established TCP connection whose
 * local port is an SSH port (fw_ssh_ports: the tcp ports of the service
 * named ssh, in the running policy and the new one, else 22), walk the ruleset as the kernel would for a
 * SYN from the peer's address to that port (not on lo, conntrack state
 * new) and see whether it ends in accept. Sets are judged by in_set: the
 * ban sets by fwd's ban list; user sets start empty after an apply, so
 * they never admit. Rate-limited rules count as admitting (the first
 * packets pass). Peers on 127.0.0.0/8 and ::1 come over lo: accepted.
 *
 * Parsing /proc/net/tcp and tcp6 is pure (the unit suite feeds text). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwd.h"

#define TCP_ESTABLISHED_HEX	0x01

static bool
in_cidr(const struct net_cidr *c, int family, const uint8_t *addr)
{
	unsigned	 bits = c->prefix, i;

	if (c->family != family)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (addr[i] != c->addr[i])
			return false;
	return bits == 0 ||
	    ((addr[i] ^ c->addr[i]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

static bool
rule_matches(const struct fw_krule *k, int family, const uint8_t *addr,
    uint16_t port, fw_in_set_cb in_set, void *arg)
{
	if (k->kind != KR_MATCH)
		return false;	/* established, invalid, lo: not a new SYN */
	if ((k->family != 0 && k->family != family) ||
	    (k->has_cidr && !in_cidr(&k->cidr, family, addr)) ||
	    (k->set != NULL && !in_set(k->set, family, addr, arg)) ||
	    (k->l4proto != 0 && k->l4proto != IPPROTO_TCP) ||
	    k->icmp_type >= 0 ||
	    (k->has_port && (port < k->port_lo || port > k->port_hi)))
		return false;
	return true;
}

bool
fw_ruleset_admits(const struct fw_ruleset *rs, int family,
    const uint8_t *addr, uint16_t port, fw_in_set_cb in_set, void *arg)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	size_t	 i;

	if ((family == AF_INET && addr[0] == 127) ||
	    (family == AF_INET6 && memcmp(addr, lo6, 16) == 0))
		return true;
	for (i = 0; i < rs->nrules; i++)
		if (rule_matches(&rs->rules[i], family, addr, port, in_set, arg))
			return rs->rules[i].accept;
	return false;		/* the chain's policy: drop */
}

/* "0100007F:0016": four bytes as the kernel printed a u32 in host order. */
static int
parse_hex_addr(const char *s, size_t nwords, uint8_t *out, uint16_t *port)
{
	char		 w[9], *end;
	uint32_t	 v;
	unsigned long	 p;
	size_t		 i;

	for (i = 0; i < nwords; i++) {
		memcpy(w, s + i * 8, 8);
		w[8] = '\0';
		v = (uint32_t)strtoul(w, &end, 16);
		if (*end != '\0')
			return -1;
		memcpy(out + i * 4, &v, 4);
	}
	if (s[nwords * 8] != ':')
		return -1;
	p = strtoul(s + nwords * 8 + 1, &end, 16);
	if (end == s + nwords * 8 + 1 || p > 65535)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

/* The SSH ports of a policy: the tcp ports of its service named ssh.
 * Appends up to max ranges to out; returns how many it has now. */
size_t
fw_ssh_ports(const struct fw_policy *p, struct fw_port *out, size_t n,
    size_t max)
{
	const struct fw_service *s;
	size_t		 i, j, k;

	for (i = 0; p != NULL && i < p->nservices; i++) {
		s = &p->services[i];
		if (strcmp(s->name, "ssh") != 0)
			continue;
		for (j = 0; j < s->n && n < max; j++) {
			if (s->ports[j].proto != IPPROTO_TCP)
				continue;
			for (k = 0; k < n; k++)
				if (out[k].lo == s->ports[j].lo &&
				    out[k].hi == s->ports[j].hi)
					break;
			if (k == n)
				out[n++] = s->ports[j];
		}
	}
	return n;
}

void
fw_proc_tcp_parse(const char *text, int family, uint16_t port_lo,
    uint16_t port_hi, fw_peer_cb cb, void *arg)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	size_t		 nw = family == AF_INET ? 1 : 4;
	const char	*line = text, *nl;
	char		 la[64], ra[64];
	unsigned	 st;
	uint8_t		 laddr[16], raddr[16];
	uint16_t	 lport, rport;

	for (; *line != '\0'; line = nl + 1) {
		if (sscanf(line, "%*s %63s %63s %x", la, ra, &st) == 3 &&
		    st == TCP_ESTABLISHED_HEX && strlen(la) == nw * 8 + 5 &&
		    strlen(ra) == nw * 8 + 5 &&
		    parse_hex_addr(la, nw, laddr, &lport) == 0 &&
		    parse_hex_addr(ra, nw, raddr, &rport) == 0 &&
		    lport >= port_lo && lport <= port_hi) {
			/* An IPv4 client of an IPv6 socket sends IPv4. */
			if (family == AF_INET6 &&
			    memcmp(raddr, mapped, sizeof(mapped)) == 0)
				cb(AF_INET, raddr + 12, lport, arg);
			else
				cb(family, raddr, lport, arg);
		}
		if ((nl = strchr(line, '\n')) == NULL)
			break;
	}
}

/* /proc/net/tcp or tcp6, whole, NUL-terminated; NULL if unreadable. */
static char *
slurp(const char *path)
{
	char	*s = NULL, *p;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= 64 * 1024 * 1024 ||
			    (p = realloc(s, cap + 65536)) == NULL)
				break;
			s = p;
			cap += 65536;
		}
		if ((n = read(fd, s + len, cap - len - 1)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			close(fd);
			s[len] = '\0';
			return s;
		}
		len += (size_t)n;
	}
	close(fd);
	free(s);
	return NULL;
}

int
fw_ssh_peers(const struct fw_port *ports, size_t nports, fw_peer_cb cb,
    void *arg)
{
	static const struct { const char *path; int family; } files[] = {
		{ "/proc/net/tcp", AF_INET }, { "/proc/net/tcp6", AF_INET6 },
	};
	char	*text;
	size_t	 i, j;
	int	 rc = -1;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((text = slurp(files[i].path)) == NULL)
			continue;	/* no IPv6 in this kernel, say */
		for (j = 0; j < nports; j++)
			fw_proc_tcp_parse(text, files[i].family, ports[j].lo,
			    ports[j].hi, cb, arg);
		free(text);
		rc = 0;
	}
	return rc;
}

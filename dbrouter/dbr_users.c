/* dbrouter's users file: who may log in through the router, with the same
 * mysql_native_password hash the servers store, one per line:
 *
 *	# NAME  HASH (SELECT PASSWORD('secret'), or mysql.user's)
 *	app	*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9
 *	report
 *
 * A name alone is an account without a password. The hash is enough to
 * check a client's answer to the scramble and to recover SHA1(password),
 * which logs in to the servers as the same account; so the file is as
 * secret as a password file and refused when others may read it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "dbr.h"

#define USERS_FILE_MAX	(4 * 1024 * 1024)

static int
parse_line(char *line, struct dbr_user *u, const char **why)
{
	char	*name, *hash, *extra, *save = NULL;

	name = strtok_r(line, " \t", &save);
	hash = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	memset(u, 0, sizeof(*u));
	if (extra != NULL)
		return *why = "expected NAME [*HASH]", -1;
	if (strlen(name) >= sizeof(u->name))
		return *why = "user name longer than 80 characters", -1;
	snprintf(u->name, sizeof(u->name), "%s", name);
	if (hash == NULL)
		return 0;
	if (mysql_native_hash_parse(hash, u->stage2) == -1)
		return *why = "the hash is not '*' and 40 hex digits "
		    "(SELECT PASSWORD('...') prints one)", -1;
	u->has_password = true;
	return 0;
}

static int
parse(char *text, struct dbr_users *users, const char *path, char *err,
    size_t errlen)
{
	char		*line, *save = NULL;
	const char	*why;
	unsigned	 lineno = 0;
	struct dbr_user	 u, *v;

	for (line = text; line != NULL; line = save) {
		lineno++;
		if ((save = strchr(line, '\n')) != NULL)
			*save++ = '\0';
		line[strcspn(line, "#\r")] = '\0';
		if (line[strspn(line, " \t")] == '\0')
			continue;
		if (parse_line(line, &u, &why) == -1)
			return seterr(err, errlen, "%s:%u: %s", path, lineno,
			    why);
		if (dbr_users_find(users, u.name, strlen(u.name)) != NULL)
			return seterr(err, errlen, "%s:%u: user %s listed "
			    "twice", path, lineno, u.name);
		if ((v = reallocarray(users->v, users->n + 1,
		    sizeof(*v))) == NULL)
			return seterr(err, errlen, "out of memory");
		users->v = v;
		users->v[users->n++] = u;
	}
	if (users->n == 0)
		return seterr(err, errlen, "%s: no users", path);
	return 0;
}

int
dbr_users_load(const char *path, struct dbr_users *users, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*text;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd, rv;

	memset(users, 0, sizeof(*users));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return seterr(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		close(fd);
		return seterr(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (st.st_mode & S_IROTH) {
		close(fd);
		return seterr(err, errlen, "%s: readable by others (chmod o-r)",
		    path);
	}
	if (st.st_size > USERS_FILE_MAX) {
		close(fd);
		return seterr(err, errlen, "%s: larger than %d bytes", path,
		    USERS_FILE_MAX);
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return seterr(err, errlen, "out of memory");
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	text[got] = '\0';
	rv = parse(text, users, path, err, errlen);
	explicit_bzero(text, got);
	free(text);
	if (rv == -1)
		dbr_users_free(users);
	return rv;
}

void
dbr_users_free(struct dbr_users *users)
{
	if (users->v != NULL)
		explicit_bzero(users->v, users->n * sizeof(*users->v));
	free(users->v);
	users->v = NULL;
	users->n = 0;
}

const struct dbr_user *
dbr_users_find(const struct dbr_users *users, const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < users->n; i++)
		if (strlen(users->v[i].name) == len &&
		    memcmp(users->v[i].name, name, len) == 0)
			return &users->v[i];
	return NULL;
}

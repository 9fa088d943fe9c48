/* Unit tests for common/sha1: the FIPS 180 example vectors, and the same
 * digest whatever the split of the input across updates. */
#include <stdio.h>
#include <string.h>

#include "sha1.h"
#include "suites.h"

static void
hex(const uint8_t d[SHA1_LEN], char out[2 * SHA1_LEN + 1])
{
	int	 i;

	for (i = 0; i < SHA1_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static const struct {
	const char	*msg;
	const char	*digest;
} vectors[] = {
	{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
	{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	{ "The quick brown fox jumps over the lazy dog",
	    "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12" },
};

START_TEST(known_vectors)
{
	uint8_t	 d[SHA1_LEN];
	char	 h[2 * SHA1_LEN + 1];

	sha1(vectors[_i].msg, strlen(vectors[_i].msg), d);
	hex(d, h);
	ck_assert_str_eq(h, vectors[_i].digest);
}
END_TEST

START_TEST(million_a_in_odd_pieces)
{
	struct sha1_ctx c;
	char	 chunk[997];
	uint8_t	 d[SHA1_LEN];
	char	 h[2 * SHA1_LEN + 1];
	size_t	 left = 1000000, n;

	memset(chunk, 'a', sizeof(chunk));
	sha1_init(&c);
	for (; left > 0; left -= n) {
		n = left < sizeof(chunk) ? left : sizeof(chunk);
		sha1_update(&c, chunk, n);
	}
	sha1_final(&c, d);
	hex(d, h);
	ck_assert_str_eq(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}
END_TEST

START_TEST(every_split_agrees)
{
	const char *m = vectors[2].msg;
	size_t	 len = strlen(m), cut;
	uint8_t	 whole[SHA1_LEN], d[SHA1_LEN];
	struct sha1_ctx c;

	sha1(m, len, whole);
	for (cut = 0; cut <= len; cut++) {
		sha1_init(&c);
		sha1_update(&c, m, cut);
		sha1_update(&c, m + cut, len - cut);
		sha1_final(&c, d);
		ck_assert_mem_eq(d, whole, SHA1_LEN);
	}
}
END_TEST

Suite *
sha1_suite(void)
{
	Suite	*s = suite_create("sha1");
	TCase	*tc = tcase_create("digest");

	tcase_add_loop_test(tc, known_vectors, 0,
	    sizeof(vectors) / sizeof(vectors[0]));
	tcase_add_test(tc, million_a_in_odd_pieces);
	tcase_add_test(tc, every_split_agrees);
	suite_add_tcase(s, tc);
	return s;
}

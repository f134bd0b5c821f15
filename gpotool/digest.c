/* SHA-256 helpers over OpenSSL EVP; see digest.h. */
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void to_hex(const unsigned char *md, char out[SHA256_HEX_LEN + 1])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	to_hex(md, out);
}

int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1], struct gt_error *e)
{
	unsigned char md[32], buf[1 << 16];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t r;

	if (fd < 0)
		return gt_fail(e, GT_FAILED, "unable to open '%s': %s", path, strerror(errno));
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		ret = gt_fail(e, GT_FAILED, "unable to start SHA-256");
		goto out;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = gt_fail(e, GT_FAILED, "unable to read '%s': %s", path, strerror(errno));
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	to_hex(md, out);
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return ret;
}

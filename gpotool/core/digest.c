/* SHA-256 helpers over OpenSSL EVP; see digest.h. */
#include "core/digest.h"

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

/* Reads with pread from offset 0, so a caller's descriptor keeps its position. */
int sha256_fd_hex(int fd, char out[SHA256_HEX_LEN + 1], struct gt_error *e)
{
	static unsigned char buf[1 << 20];
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	off_t at = 0;
	ssize_t r;
	int ret = 0;

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return gt_fail(e, GT_FAILED, "unable to start SHA-256");
	}
	while ((r = pread(fd, buf, sizeof(buf), at)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = gt_fail(e, GT_FAILED, "unable to read for SHA-256: %s", strerror(errno));
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		at += r;
	}
	if (ret == 0) {
		EVP_DigestFinal_ex(ctx, md, &mdlen);
		to_hex(md, out);
	}
	EVP_MD_CTX_free(ctx);
	return ret;
}

int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1], struct gt_error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return gt_fail(e, GT_FAILED, "unable to open '%s': %s", path, strerror(errno));
	ret = sha256_fd_hex(fd, out, e);
	close(fd);
	if (ret < 0)
		gt_prefix(e, "'%s': ", path);
	return ret;
}

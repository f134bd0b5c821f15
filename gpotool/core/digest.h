/* SHA-256 through OpenSSL's libcrypto: journal and audit hashes. */
#ifndef GPOTOOL_DIGEST_H
#define GPOTOOL_DIGEST_H

#include <stddef.h>

#include "core/error.h"

#define SHA256_HEX_LEN 64

void sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1]);
/* The SHA-256 of all of an open file, read from offset 0. */
int sha256_fd_hex(int fd, char out[SHA256_HEX_LEN + 1], struct gt_error *e);
int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1], struct gt_error *e);

#endif

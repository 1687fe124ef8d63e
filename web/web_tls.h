/* web/web_tls: the HTTPS certificate. A configured one ([web] cert, key) is
 * used as it is; without one piglix makes a self-signed ECDSA P-256
 * certificate at first start, valid for this host's name (and name.local),
 * localhost and its addresses, kept under [state] dir (web-cert.pem,
 * web-key.pem 0600) so browsers see the same one after restarts. */
#ifndef PIGLIX_WEB_TLS_H
#define PIGLIX_WEB_TLS_H

#include <stddef.h>

#include "common/config.h"

/* Sets cert/key to the files to serve, generating them when needed.
 * Returns 0 or -1 (logged). */
int web_tls_prepare(const struct config_web *cfg, const char *state_dir, char *cert, size_t certlen, char *key,
                    size_t keylen);

/* Writes a new self-signed certificate for hostname (plus localhost and the
 * host's addresses) and its key. Returns 0 or -1 (logged). */
int web_tls_generate(const char *cert_path, const char *key_path, const char *hostname);

#endif

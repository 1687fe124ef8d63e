#include "web/web_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/statefile.h"

#define CERT_DAYS 3650

static void log_ssl(const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    LOG_ERROR("web", "%s: %s", what, e ? buf : "failed");
}

/* "DNS:a,DNS:a.local,DNS:localhost,IP:127.0.0.1,IP:::1,IP:..." */
static void build_san(const char *hostname, char *out, size_t n)
{
    size_t o = 0;
#define ADD(...) do { int w_ = snprintf(out + o, n - o, __VA_ARGS__); \
                      if (w_ > 0 && (size_t)w_ < n - o) o += (size_t)w_; } while (0)
    ADD("DNS:%s", hostname);
    if (!strchr(hostname, '.'))
        ADD(",DNS:%s.local", hostname);
    if (strcmp(hostname, "localhost") != 0)
        ADD(",DNS:localhost");
    ADD(",IP:127.0.0.1,IP:::1");
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) == 0) {
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
            if (!i->ifa_addr)
                continue;
            char a[INET6_ADDRSTRLEN];
            if (i->ifa_addr->sa_family == AF_INET) {
                const struct in_addr *in = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
                if ((ntohl(in->s_addr) >> 24) == 127)
                    continue;
                inet_ntop(AF_INET, in, a, sizeof(a));
            } else if (i->ifa_addr->sa_family == AF_INET6) {
                const struct in6_addr *in6 = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                if (IN6_IS_ADDR_LOOPBACK(in6) || IN6_IS_ADDR_LINKLOCAL(in6))
                    continue; /* link-local needs a zone, which certificates cannot name */
                inet_ntop(AF_INET6, in6, a, sizeof(a));
            } else {
                continue;
            }
            if (o + strlen(a) + 8 < n)
                ADD(",IP:%s", a);
        }
        freeifaddrs(ifa);
    }
#undef ADD
}

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int r = X509_add_ext(x, ext, -1) ? 0 : -1;
    X509_EXTENSION_free(ext);
    return r;
}

struct pem_body {
    EVP_PKEY *key;
    X509 *cert;
};

static int pem_body(FILE *f, void *ctx)
{
    const struct pem_body *b = ctx;
    int ok = b->key ? PEM_write_PrivateKey(f, b->key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, b->cert);
    return ok ? 0 : -1;
}

/* Through statefile's replacement: a random O_EXCL temporary name, so a
 * symlink planted beside the file cannot redirect a daemon run as root. */
static int write_pem(const char *path, int mode, EVP_PKEY *key, X509 *cert)
{
    struct pem_body b = {key, cert};
    if (statefile_write(path, pem_body, &b, (mode_t)mode, NULL, NULL) != 0) {
        LOG_ERROR("web", "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int web_tls_generate(const char *cert_path, const char *key_path, const char *hostname)
{
    int r = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (!key || !x) {
        log_ssl("ECDSA P-256 key");
        goto out;
    }
    uint8_t serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto out;
    serial[0] &= 0x7f; /* a positive serial */
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
        BN_free(bn);
        goto out;
    }
    BN_free(bn);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"piglix", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    char san[2048];
    build_san(hostname, san, sizeof(san));
    if (add_ext(x, NID_subject_alt_name, san) < 0 ||
        add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        add_ext(x, NID_key_usage, "critical,digitalSignature") < 0 ||
        add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
        add_ext(x, NID_subject_key_identifier, "hash") < 0) {
        log_ssl("certificate extensions");
        goto out;
    }
    if (!X509_sign(x, key, EVP_sha256())) {
        log_ssl("signing the certificate");
        goto out;
    }
    if (write_pem(key_path, 0600, key, NULL) < 0 || write_pem(cert_path, 0644, NULL, x) < 0)
        goto out;
    LOG_INFO("web", "made a self-signed certificate %s for %s", cert_path, san);
    r = 0;
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return r;
}

/* Whether the key and certificate piglix made parse and belong together.
 * They are two files written one after the other: a cut between the two
 * leaves a new key beside the old certificate (or none), which TLS would
 * refuse at every start. */
static bool own_pair_ok(const char *cert_path, const char *key_path)
{
    FILE *cf = fopen(cert_path, "re");
    FILE *kf = fopen(key_path, "re");
    X509 *x = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
    bool ok = x && k && X509_check_private_key(x, k) == 1;
    X509_free(x);
    EVP_PKEY_free(k);
    if (cf)
        fclose(cf);
    if (kf)
        fclose(kf);
    ERR_clear_error();
    return ok;
}

int web_tls_prepare(const struct config_web *cfg, const char *state_dir, char *cert, size_t certlen, char *key,
                    size_t keylen)
{
    if (cfg->cert[0]) {
        snprintf(cert, certlen, "%s", cfg->cert);
        snprintf(key, keylen, "%s", cfg->key);
        if (access(cert, R_OK) != 0 || access(key, R_OK) != 0) {
            LOG_ERROR("web", "[web] cert %s or key %s cannot be read: %s", cert, key, strerror(errno));
            return -1;
        }
        return 0;
    }
    snprintf(cert, certlen, "%s/web-cert.pem", state_dir);
    snprintf(key, keylen, "%s/web-key.pem", state_dir);
    bool have_cert = access(cert, F_OK) == 0, have_key = access(key, F_OK) == 0;
    if ((have_cert || have_key) && own_pair_ok(cert, key))
        return 0;
    if (have_cert || have_key)
        LOG_WARN("web", "%s and %s are not a whole key pair (cut short by a crash?): making a new one", cert, key);
    char host[128];
    if (cfg->hostname[0]) {
        snprintf(host, sizeof(host), "%s", cfg->hostname);
    } else if (gethostname(host, sizeof(host)) != 0 || !host[0]) {
        snprintf(host, sizeof(host), "piglix");
    }
    host[sizeof(host) - 1] = '\0';
    if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
        LOG_ERROR("web", "[state] dir %s: %s", state_dir, strerror(errno));
        return -1;
    }
    return web_tls_generate(cert, key, host);
}

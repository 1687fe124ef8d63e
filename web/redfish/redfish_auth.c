/* Who makes a Redfish request. An X-Auth-Token names a session made by
 * POST SessionService/Sessions (redfish_session.c); HTTP Basic uses the web
 * accounts (auth/auth.h), and a piglix API token works as Bearer.
 * Wrong passwords count against the same per-address and per-account
 * throttle (and the same password-hash budget) as the UI's logins, so
 * neither door is a way around the other. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/clock.h"
#include "common/log.h"
#include "web/redfish/redfish_internal.h"

void rf_unauthorized(struct rf_req *r, const char *why)
{
    web_resp_header(&r->c->resp, "WWW-Authenticate: Basic realm=\"piglix Redfish\"");
    if (why)
        rf_error_why(r, 401, why, RF_MSG_RESOURCE_AT_URI_UNAUTHORIZED, r->uri, why);
    else
        rf_error(r, 401, RF_MSG_NO_VALID_SESSION);
}

static void too_many(struct rf_req *r, const char *name, int wait)
{
    char s[16];
    r->w->stats.logins_throttled++;
    LOG_WARN("redfish", "%s@%s: refused, too many failed logins (retry in %d s)", name, r->c->addr, wait);
    audit_record(AUDIT_LOGIN_FAILED, AUDIT_IF_REDFISH, AUDIT_REFUSED, name, r->c->addr,
                 "too many failed logins: retry in %d s", wait);
    snprintf(s, sizeof(s), "%d", wait);
    web_resp_header(&r->c->resp, "Retry-After: %d", wait);
    rf_error_why(r, 429, "too many failed logins: try again later", RF_MSG_UNAVAILABLE, s);
}

static void basic_digest(const struct redfish *rf, const char *user, const char *pass, uint8_t out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned n = 0;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, rf->salt, sizeof(rf->salt)) != 1 ||
        EVP_DigestUpdate(ctx, user, strlen(user) + 1) != 1 || EVP_DigestUpdate(ctx, pass, strlen(pass)) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &n) != 1)
        auth_random(out, 32); /* matches nothing */
    EVP_MD_CTX_free(ctx);
}

static bool same_mtime(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* The cached entry for this name and password, still valid, or NULL. */
static struct rf_basic_ok *basic_cached(struct rf_req *r, const char *user, const uint8_t digest[32], int64_t now)
{
    for (int i = 0; i < RF_BASIC_CACHE; i++) {
        struct rf_basic_ok *e = &r->rf->basic[i];
        if (e->name[0] && strcmp(e->name, user) == 0 && now < e->until_ms &&
            same_mtime(&e->accounts_mtime, &r->w->accounts.mtime) && auth_equal_ct(e->digest, digest, 32))
            return e;
    }
    return NULL;
}

static void basic_remember(struct rf_req *r, const char *user, const uint8_t digest[32], int64_t now)
{
    struct rf_basic_ok *slot = &r->rf->basic[0];
    for (int i = 0; i < RF_BASIC_CACHE; i++) {
        struct rf_basic_ok *e = &r->rf->basic[i];
        if (strcmp(e->name, user) == 0 || e->until_ms < slot->until_ms) /* its own, else the oldest */
            slot = e;
        if (strcmp(e->name, user) == 0)
            break;
    }
    snprintf(slot->name, sizeof(slot->name), "%s", user);
    memcpy(slot->digest, digest, 32);
    slot->until_ms = now + RF_BASIC_CACHE_MS;
    slot->accounts_mtime = r->w->accounts.mtime;
}

/* Checks a name and password as a login; 0, or -1 after replying (or
 * while the hash runs off the event loop: the request comes back). */
int rf_check_password(struct rf_req *r, const char *user, char *pass, const char *how)
{
    struct web *w = r->w;
    char nb[AUTH_NAME_MAX + 20];
    snprintf(nb, sizeof(nb), "%s", auth_name_valid(user) ? user : "(invalid name)");
    int wait = web_auth_throttle_wait(r->c, user);
    if (wait) {
        too_many(r, nb, wait);
        return -1;
    }
    uint8_t digest[32];
    int64_t now = clock_mono_ms();
    basic_digest(r->rf, user, pass, digest);
    struct auth_account *known = basic_cached(r, user, digest, now) ? auth_accounts_find(&w->accounts, user) : NULL;
    if (known && !known->totp[0]) {
        explicit_bzero(digest, sizeof(digest));
        web_auth_throttle_record(r->c, user, true);
        snprintf(r->c->user, sizeof(r->c->user), "%s", known->name);
        return 0;
    }
    struct auth_account *acc;
    enum web_pw pw = web_auth_password(r->c, user, pass, &acc);
    if (pw == WEB_PW_PENDING) {
        explicit_bzero(digest, sizeof(digest));
        return -1; /* dispatched again when the hash is done */
    }
    if (pw == WEB_PW_BUSY) {
        explicit_bzero(digest, sizeof(digest));
        web_resp_header(&r->c->resp, "Retry-After: 1");
        rf_error_why(r, 503, "too many logins at once: retry in a second", RF_MSG_UNAVAILABLE, "1");
        return -1;
    }
    /* An account with TOTP cannot log in with a password alone, and that
     * answer must not confirm the password: it is a wrong one. */
    if (acc && acc->totp[0]) {
        LOG_INFO("redfish", "%s@%s: %s refused: the account uses TOTP (use an API token)", acc->name, r->c->addr, how);
        acc = NULL;
    }
    if (!acc) {
        web_auth_throttle_record(r->c, user, false);
        w->stats.logins_failed++;
        LOG_WARN("redfish", "%s@%s: wrong name or password (%s)", nb, r->c->addr, how);
        audit_record(AUDIT_LOGIN_FAILED, AUDIT_IF_REDFISH, AUDIT_FAILED, user, r->c->addr,
                     "wrong name or password (%s)", how);
        rf_unauthorized(r, "wrong user name or password");
        return -1;
    }
    web_auth_throttle_record(r->c, user, true);
    basic_remember(r, acc->name, digest, now);
    explicit_bzero(digest, sizeof(digest));
    snprintf(r->c->user, sizeof(r->c->user), "%s", acc->name);
    return 0;
}

int rf_authenticate(struct rf_req *r)
{
    struct web *w = r->w;
    char hdr[700], user[AUTH_NAME_MAX + 2], pass[AUTH_PASSWORD_MAX + 1];
    /* Tokens are 256 random bits: guessing is hopeless, so a stale one (a
     * client whose session timed out) is not counted as a failed login. */
    if (web_header(r->c, WSI_TOKEN_X_AUTH_TOKEN, hdr, sizeof(hdr)) >= 0) {
        struct rf_session *s = rf_session_by_token(r, hdr);
        explicit_bzero(hdr, sizeof(hdr));
        if (!s) {
            rf_unauthorized(r, NULL);
            return -1;
        }
        snprintf(r->c->user, sizeof(r->c->user), "%s", s->name);
        return 0;
    }
    if (web_header(r->c, WSI_TOKEN_HTTP_AUTHORIZATION, hdr, sizeof(hdr)) < 0) {
        rf_unauthorized(r, NULL);
        return -1;
    }
    if (w->accounts.n == 0) {
        rf_unauthorized(r, "no account exists yet: create one with `piglix user add NAME`");
        return -1;
    }
    if (web_basic_auth_parse(hdr, user, sizeof(user), pass, sizeof(pass)) == 0) {
        explicit_bzero(hdr, sizeof(hdr));
        int rc = rf_check_password(r, user, pass, "HTTP Basic");
        explicit_bzero(pass, sizeof(pass));
        return rc;
    }
    char token[160];
    if (web_bearer_parse(hdr, token, sizeof(token)) == 0) {
        explicit_bzero(hdr, sizeof(hdr));
        int wait = web_auth_throttle_wait(r->c, NULL);
        struct auth_account *acc = wait ? NULL : auth_accounts_check_token(&w->accounts, token);
        explicit_bzero(token, sizeof(token));
        if (wait) {
            too_many(r, "?", wait);
            return -1;
        }
        if (!acc) {
            web_auth_throttle_record(r->c, NULL, false);
            LOG_WARN("redfish", "?@%s: wrong API token", r->c->addr);
            audit_record(AUDIT_LOGIN_FAILED, AUDIT_IF_REDFISH, AUDIT_FAILED, NULL, r->c->addr, "wrong API token");
            rf_unauthorized(r, "wrong API token");
            return -1;
        }
        snprintf(r->c->user, sizeof(r->c->user), "%s", acc->name);
        return 0;
    }
    explicit_bzero(hdr, sizeof(hdr));
    rf_unauthorized(r, "unsupported Authorization header (use Basic, Bearer or X-Auth-Token)");
    return -1;
}


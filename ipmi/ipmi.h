/* web/ipmi: IPMI 2.0 over LAN (RMCP+, UDP [ipmi] port, 623), so fleet
 * tools (ipmitool, freeipmi, Ironic, MAAS) can treat piglix as the BMC of
 * the server it is wired to. One thread with its UDP socket(s) ([ipmi]
 * listen: "0.0.0.0", "::" for IPv6 and IPv4, or one address).
 *
 * It answers the RMCP presence ping, opens sessions with cipher suites 3
 * and 17 only (cipher suite 0 and IPMI 1.5 logins are refused) for the
 * web accounts that have an IPMI password (`piglix user ipmi-passwd NAME`,
 * ipmi/ipmi_users.h), and serves the device (Get Device ID, System GUID,
 * Self Test), the chassis (status and control through atx/atx.h) and the
 * sensors (SDR repository and readings from sensors/sensors.h). An
 * account's role limits its privilege level (admin: Administrator,
 * operator: Operator, viewer: User; ipmi_cmd.c). web/IPMI.md lists the
 * commands. */
#ifndef PIGLIX_WEB_IPMI_H
#define PIGLIX_WEB_IPMI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "auth/auth.h"

struct config_ipmi;
struct atx;
struct sensors;
struct serial_console;
struct ipmi;

/* With [ipmi] enabled: loads or makes the system GUID ([state] dir/
 * ipmi.guid), binds the socket(s) and starts the thread; NULL after
 * logging why. With IPMI disabled: removes any stored IPMI passwords
 * (they are kept only while IPMI is on) and returns NULL. atx, sensors
 * and serial (each NULL: none) must outlive the IPMI thread. With a serial
 * console, Serial-over-LAN (payload type 1) is offered on it: one active
 * SOL instance at a time, reading the console's output from its ring
 * buffer and writing with serial_write, never blocking the IPMI thread. */
struct ipmi *ipmi_start(const struct config_ipmi *cfg, const char *state_dir, struct atx *atx,
                         struct sensors *sensors, struct serial_console *serial);

/* Lists IPMI sessions in control/ (interface "ipmi"; an admin's end
 * closes the session on the IPMI thread within a second). Once, from the
 * main thread, after ipmi_start; ctl must outlive the IPMI thread. NULL ip
 * is fine. */
struct control;
void ipmi_set_control(struct ipmi *ip, struct control *ctl);

/* Stops the thread, ends every session, frees. NULL is fine. */
void ipmi_stop(struct ipmi *ipmi);

/* ---- IPMI passwords (ipmi_users.c) ---- */
/* ipmi/ipmi_users: the IPMI passwords of the web accounts, in one file under
 * [state] dir (ipmi.users, mode 0600). RMCP+ authenticates with an HMAC
 * keyed by the password itself, so unlike web.users (one-way hashes) this
 * file holds each password recoverably (hex-encoded). It exists only while
 * [ipmi] enabled = yes: the daemon removes it when IPMI is off. Writers take
 * an flock on ipmi.users.lock around read-modify-write and replace the file
 * atomically (common/statefile); the daemon only reads (and re-reads it
 * when it changes). */
#define IPMI_PASSWORD_MIN 8
#define IPMI_PASSWORD_MAX 20       /* IPMI 2.0's limit */

struct ipmi_user {
    char name[AUTH_NAME_MAX + 1];
    char password[IPMI_PASSWORD_MAX + 1];
    size_t len;
};

struct ipmi_users {
    char dir[256];
    struct ipmi_user u[AUTH_ACCOUNTS_MAX];
    int n;
    struct timespec mtime;         /* of the file when loaded */
    int lock_fd;                   /* held between ipmi_users_lock and _unlock */
};

/* Loads dir/ipmi.users (missing: none). 0 or -1 (logged to err if given). */
int ipmi_users_load(struct ipmi_users *u, const char *dir, FILE *err);
/* Reloads when the file changed. 1 reloaded, 0 unchanged, -1 error. */
int ipmi_users_refresh(struct ipmi_users *u);
/* Exclusive lock for a read-modify-write (reloads). 0 or -1. */
int ipmi_users_lock(struct ipmi_users *u, const char *dir, FILE *err);
void ipmi_users_unlock(struct ipmi_users *u);
/* Writes atomically, mode 0600 (an empty list removes the file). 0 or -1. */
int ipmi_users_save(struct ipmi_users *u, FILE *err);
/* Wipes the passwords from memory. */
void ipmi_users_clear(struct ipmi_users *u);

const struct ipmi_user *ipmi_users_find(const struct ipmi_users *u, const char *name);
/* Sets (adds or replaces) a password of IPMI_PASSWORD_MIN..MAX bytes
 * without NUL or newline. Does not save. 0 or -1 (reason to err). */
int ipmi_users_set(struct ipmi_users *u, const char *name, const char *password, FILE *err);
/* 0, or -1 when the name has no password. Does not save. */
int ipmi_users_delete(struct ipmi_users *u, const char *name);

/* For `piglix user del`: removes the account's IPMI password, if any,
 * under the file's lock. 0 or -1. */
int ipmi_users_forget(const char *dir, const char *name, FILE *err);
/* Removes the whole file (IPMI turned off). 1 removed, 0 there was none, -1 error. */
int ipmi_users_purge(const char *dir);

/* `piglix user ipmi-passwd NAME`, with the web accounts' lock held by the
 * caller (acc: the loaded accounts). Refuses while [ipmi] is disabled.
 * Returns the exit status. */
struct config_ipmi;
int ipmi_users_passwd_command(const struct config_ipmi *cfg, const char *state_dir, struct auth_accounts *acc,
                              const char *name, FILE *err);

#endif

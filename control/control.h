/* control/: who is connected and who has the keyboard.
 *
 * Owns the one list of every session on every interface (browser viewers,
 * VNC viewers, API clients, web sessions, Redfish sessions, IPMI sessions,
 * serial consoles): account, address, interface, role, start and last
 * activity. Each interface registers its sessions as an owner; ending a
 * session (an admin in the UI or API) only flags it and wakes its owner,
 * which ends it on its own thread (control_owner_service), so no interface's
 * state is touched from another thread.
 *
 * Also owns who may type ([control] mode): shared (everyone with control
 * rights, today's behaviour) or exclusive (one holder at a time, handed
 * over, requested, taken by an admin, released after idle_release_s without
 * input or when the holder's session closes). Every change of holder bumps
 * a generation number: input paths release every key and button they hold
 * before the first event after a change, so nothing stays pressed.
 *
 * Threads: every call is thread-safe (one mutex inside); none blocks on
 * anything but that mutex. Owners' wake functions and watchers run on the
 * thread making the change, outside the mutex, and must not block or call
 * back into control_*.
 *
 * Errors: -1 for an unknown session, -2 for "not allowed now" (not the
 * holder, nothing to hand over), as each call says. */
#ifndef PIGLIX_CONTROL_H
#define PIGLIX_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "common/config.h"

enum control_iface {
    CONTROL_IF_BROWSER,   /* a browser viewer (noVNC over the WebSocket) */
    CONTROL_IF_VNC,       /* a viewer on the VNC port */
    CONTROL_IF_API,       /* API calls with a token or HTTP Basic */
    CONTROL_IF_WEB,       /* a logged-in browser session (cookie) */
    CONTROL_IF_REDFISH,   /* a Redfish session (X-Auth-Token) */
    CONTROL_IF_IPMI,      /* an IPMI 2.0 (RMCP+) session */
    CONTROL_IF_SERIAL,    /* a serial console reader (serial/) */
    CONTROL_IF_COUNT
};
/* "browser", "vnc", "api", "web", "redfish", "ipmi", "serial". */
const char *control_iface_name(enum control_iface i);
/* Whether a session of this interface can type or click (viewers, API,
 * serial) rather than only be logged in. */
bool control_iface_inputs(enum control_iface i);

#define CONTROL_SESSIONS_MAX 256
#define CONTROL_ADDR_MAX 64
/* Input in the last CONTROL_TYPING_MS makes a session "typing". */
#define CONTROL_TYPING_MS 3000

struct control;
/* From [control]; the section must outlive it. NULL when out of memory. */
struct control *control_create(const struct config_control *cfg);
void control_destroy(struct control *c);
bool control_exclusive(const struct control *c);

/* ---- owners: the interfaces whose sessions these are ---- */
struct control_owner;
/* wake (any thread; may be NULL when the owner's loop calls
 * control_owner_service often anyway) makes the owner's loop call
 * control_owner_service soon. end runs there, once per session asked to
 * end: it must end the session, which then calls control_session_close
 * (end may do so itself). NULL when out of memory. Owners live as long as
 * c. */
struct control_owner *control_owner_add(struct control *c, const char *name, void (*wake)(void *ctx),
                                        void (*end)(void *ctx, unsigned id, uintptr_t key), void *ctx);
/* The owner's thread: runs end for each of its sessions asked to end. */
void control_owner_service(struct control *c, struct control_owner *o);

/* ---- sessions ---- */
/* Registers a session: key is the owner's own handle (given back to end).
 * parent (0: none) is the session this one belongs to, e.g. the web session
 * a browser viewer was opened from: the keyboard is held by a session and
 * its children together (the viewer types, the same page pastes).
 * Returns its id (never 0, never reused), or 0 when the list is full (the
 * session works on, unlisted: its input is allowed in shared mode, never in
 * exclusive mode). */
unsigned control_session_open(struct control *c, struct control_owner *o, enum control_iface iface,
                              const char *account, const char *addr, enum auth_role role, uintptr_t key,
                              unsigned parent);
/* The session is gone (any reason). Releases the keyboard when it held it
 * and no session of its group that can type is left. 0 is fine. */
void control_session_close(struct control *c, unsigned id);
/* Activity that is not input (a request, a frame asked for). */
void control_session_touch(struct control *c, unsigned id);
/* Asks the session's owner to end it (control_owner_service). 0, or -1 when unknown. */
int control_session_end(struct control *c, unsigned id);
/* The id of the owner's session with this key, or 0. */
unsigned control_session_find(struct control *c, struct control_owner *o, uintptr_t key);

struct control_session_info {
    unsigned id;
    enum control_iface iface;
    char account[AUTH_NAME_MAX + 1];
    char addr[CONTROL_ADDR_MAX];
    enum auth_role role;
    unsigned parent;                      /* 0, or the session it belongs to */
    int64_t start_unix_ms, last_unix_ms;  /* wall clock, for display */
    bool typing;                          /* input in the last CONTROL_TYPING_MS */
    bool holder;                          /* holds the keyboard (exclusive mode), itself or its parent */
    bool requested;                       /* asked for the keyboard */
    uint64_t dropped;                     /* its input events dropped */
};
/* Copies up to max sessions in the order they started; returns how many. */
int control_list(struct control *c, struct control_session_info *out, int max);
/* One session; 0, or -1 when unknown. */
int control_get(struct control *c, unsigned id, struct control_session_info *out);

/* ---- the keyboard ---- */
/* Input from session id is about to reach the HID: true when it may
 * (shared mode: any session with at least the operator role; exclusive:
 * the holder, or anyone with the role while nobody holds it, who then
 * becomes the holder). Records the input for "typing" and the idle timer;
 * a refused event is counted as dropped. */
bool control_input(struct control *c, unsigned id);
/* Changes whenever the holder changes (and lazily expires an idle holder):
 * an input path that saw another value releases all it holds first. */
uint64_t control_generation(struct control *c);

/* id asks for the keyboard: 0 when it now holds it (it was free, or it held
 * it already), 1 when the holder was asked (the request is shown to all),
 * -1 unknown session, -2 not allowed (role below operator, or shared mode). */
int control_request(struct control *c, unsigned id);
/* The holder lets go. 0, -1 unknown, -2 when id does not hold it. */
int control_release(struct control *c, unsigned id);
/* The holder (from) hands the keyboard to session to. 0, -1 unknown, -2 not
 * the holder or to may not type. */
int control_give(struct control *c, unsigned from, unsigned to);
/* Takes the keyboard whoever holds it (the caller checked the admin role). 0, -1, -2. */
int control_take(struct control *c, unsigned id);

struct control_state {
    bool exclusive;
    int idle_release_s;
    unsigned holder;                      /* 0: nobody; else the session (with its children) */
    char holder_account[AUTH_NAME_MAX + 1];
    enum control_iface holder_iface;
    unsigned requested_by;                /* 0: nobody asked */
    char requested_account[AUTH_NAME_MAX + 1];
    int64_t holder_idle_ms;
    uint64_t generation, dropped, handovers;
};
void control_get_state(struct control *c, struct control_state *out);

/* Called after every change of holder, on the changing thread, outside the
 * lock (e.g. to wake the VNC server, which then releases held keys, or to
 * stop a paste). At most 8 watchers; 0 or -1. */
int control_watch(struct control *c, void (*fn)(void *ctx), void *ctx);
/* Removes that watcher (its ctx is about to go); once this returns, fn is
 * not called again with ctx from any change that starts later. */
void control_unwatch(struct control *c, void (*fn)(void *ctx), void *ctx);

#endif

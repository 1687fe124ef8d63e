/* control/: the session list, ending through the owner, and the keyboard in
 * shared and exclusive mode (hand-over, request, take, idle release, a
 * holder that leaves). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "control/control.h"

struct owner_ctx {
    struct control *c;
    int wakes, ends;
    unsigned ended[8];
    uintptr_t keys[8];
};

static void on_wake(void *ctx) { ((struct owner_ctx *)ctx)->wakes++; }

static void on_end(void *ctx, unsigned id, uintptr_t key)
{
    struct owner_ctx *o = ctx;
    o->ended[o->ends] = id;
    o->keys[o->ends++] = key;
    control_session_close(o->c, id);
}

static int changes;
static void on_change(void *ctx) { (void)ctx; changes++; }

static struct control *make(const char *mode, int idle_s)
{
    struct config_control cfg = {.idle_release_s = idle_s};
    strcpy(cfg.mode, mode);
    struct control *c = control_create(&cfg);
    assert_non_null(c);
    return c;
}

static void test_list_and_end(void **state)
{
    (void)state;
    struct control *c = make("shared", 60);
    struct owner_ctx oc = {.c = c};
    struct control_owner *o = control_owner_add(c, "vnc", on_wake, on_end, &oc);
    assert_non_null(o);
    unsigned a = control_session_open(c, o, CONTROL_IF_VNC, "alice", "10.0.0.1", AUTH_ROLE_OPERATOR, 11, 0);
    unsigned b = control_session_open(c, o, CONTROL_IF_REDFISH, "bob", "10.0.0.2", AUTH_ROLE_ADMIN, 22, 0);
    assert_true(a && b && a != b);
    assert_int_equal(control_session_find(c, o, 22), b);
    struct control_session_info l[4];
    assert_int_equal(control_list(c, l, 4), 2);
    assert_int_equal(l[0].id, a);
    assert_string_equal(l[0].account, "alice");
    assert_string_equal(l[0].addr, "10.0.0.1");
    assert_string_equal(control_iface_name(l[1].iface), "redfish");
    assert_true(l[0].start_unix_ms > 0);
    /* Ending only asks: the owner ends it on its own thread. */
    assert_int_equal(control_session_end(c, b), 0);
    assert_int_equal(oc.wakes, 1);
    assert_int_equal(oc.ends, 0);
    assert_int_equal(control_list(c, l, 4), 2);
    control_owner_service(c, o);
    assert_int_equal(oc.ends, 1);
    assert_int_equal(oc.ended[0], b);
    assert_int_equal(oc.keys[0], 22);
    assert_int_equal(control_list(c, l, 4), 1);
    assert_int_equal(control_session_end(c, b), -1);
    control_session_close(c, a);
    assert_int_equal(control_list(c, l, 4), 0);
    /* ids are never reused */
    unsigned d = control_session_open(c, o, CONTROL_IF_VNC, "carol", "::1", AUTH_ROLE_OPERATOR, 33, 0);
    assert_true(d > b);
    control_destroy(c);
}

static void test_shared_mode(void **state)
{
    (void)state;
    struct control *c = make("shared", 60);
    struct owner_ctx oc = {.c = c};
    struct control_owner *o = control_owner_add(c, "web", NULL, on_end, &oc);
    unsigned a = control_session_open(c, o, CONTROL_IF_BROWSER, "alice", "a", AUTH_ROLE_OPERATOR, 1, 0);
    unsigned b = control_session_open(c, o, CONTROL_IF_BROWSER, "bob", "b", AUTH_ROLE_ADMIN, 2, 0);
    unsigned v = control_session_open(c, o, CONTROL_IF_BROWSER, "vic", "v", AUTH_ROLE_VIEWER, 3, 0);
    assert_true(control_input(c, a));
    assert_true(control_input(c, b));
    assert_false(control_input(c, v)); /* a viewer never types */
    assert_false(control_input(c, 9999));
    assert_int_equal(control_request(c, a), -2); /* nothing to hold in shared mode */
    struct control_state st;
    control_get_state(c, &st);
    assert_false(st.exclusive);
    assert_int_equal(st.holder, 0);
    assert_int_equal(st.dropped, 2);
    struct control_session_info i;
    assert_int_equal(control_get(c, a, &i), 0);
    assert_true(i.typing);
    control_destroy(c);
}

static void test_exclusive_handover(void **state)
{
    (void)state;
    changes = 0;
    struct control *c = make("exclusive", 60);
    assert_int_equal(control_watch(c, on_change, NULL), 0);
    struct owner_ctx oc = {.c = c};
    struct control_owner *o = control_owner_add(c, "web", NULL, on_end, &oc);
    unsigned a = control_session_open(c, o, CONTROL_IF_BROWSER, "alice", "a", AUTH_ROLE_OPERATOR, 1, 0);
    unsigned b = control_session_open(c, o, CONTROL_IF_BROWSER, "bob", "b", AUTH_ROLE_OPERATOR, 2, 0);
    unsigned adm = control_session_open(c, o, CONTROL_IF_API, "root", "r", AUTH_ROLE_ADMIN, 3, 0);
    uint64_t g0 = control_generation(c);
    /* The first input while free takes the keyboard; others are dropped. */
    assert_true(control_input(c, a));
    uint64_t g1 = control_generation(c);
    assert_true(g1 != g0);
    assert_int_equal(changes, 1);
    assert_false(control_input(c, b));
    assert_true(control_input(c, a));
    assert_int_equal(control_generation(c), g1);
    /* b asks: the holder is told (shown in the state), nothing changes yet. */
    assert_int_equal(control_request(c, b), 1);
    struct control_state st;
    control_get_state(c, &st);
    assert_int_equal(st.holder, a);
    assert_string_equal(st.holder_account, "alice");
    assert_int_equal(st.requested_by, b);
    assert_string_equal(st.requested_account, "bob");
    assert_int_equal(st.dropped, 1);
    /* Only the holder hands over. */
    assert_int_equal(control_give(c, b, b), -2);
    assert_int_equal(control_release(c, b), -2);
    assert_int_equal(control_give(c, a, b), 0);
    assert_true(control_generation(c) != g1);
    assert_false(control_input(c, a));
    assert_true(control_input(c, b));
    control_get_state(c, &st);
    assert_int_equal(st.holder, b);
    assert_int_equal(st.requested_by, 0);
    /* An admin takes it. */
    assert_int_equal(control_take(c, adm), 0);
    assert_false(control_input(c, b));
    assert_true(control_input(c, adm));
    /* Released: the next input takes it. */
    assert_int_equal(control_release(c, adm), 0);
    assert_true(control_input(c, b));
    /* The holder leaves: released at once. */
    uint64_t g2 = control_generation(c);
    control_session_close(c, b);
    assert_true(control_generation(c) != g2);
    control_get_state(c, &st);
    assert_int_equal(st.holder, 0);
    assert_true(control_input(c, a));
    assert_int_equal(changes, 7);
    struct control_session_info i;
    assert_int_equal(control_get(c, a, &i), 0);
    assert_true(i.holder);
    control_unwatch(c, on_change, NULL);
    assert_int_equal(control_request(c, b), -1); /* b is gone */
    assert_int_equal(control_take(c, adm), 0);
    assert_int_equal(changes, 7); /* no longer told */
    control_destroy(c);
}

static void test_exclusive_idle_release(void **state)
{
    (void)state;
    struct control *c = make("exclusive", 1);
    struct owner_ctx oc = {.c = c};
    struct control_owner *o = control_owner_add(c, "web", NULL, on_end, &oc);
    unsigned a = control_session_open(c, o, CONTROL_IF_VNC, "alice", "a", AUTH_ROLE_OPERATOR, 1, 0);
    unsigned b = control_session_open(c, o, CONTROL_IF_VNC, "bob", "b", AUTH_ROLE_OPERATOR, 2, 0);
    unsigned v = control_session_open(c, o, CONTROL_IF_VNC, "vic", "v", AUTH_ROLE_VIEWER, 3, 0);
    assert_int_equal(control_request(c, v), -2);
    assert_int_equal(control_request(c, a), 0);
    assert_int_equal(control_give(c, a, v), -2); /* a viewer cannot hold it */
    uint64_t g = control_generation(c);
    usleep(600 * 1000);
    assert_true(control_input(c, a)); /* input restarts the idle timer */
    usleep(600 * 1000);
    assert_false(control_input(c, b));
    usleep(500 * 1000);
    assert_int_equal(control_generation(c), g + 1); /* idle: released */
    struct control_state st;
    control_get_state(c, &st);
    assert_int_equal(st.holder, 0);
    assert_true(control_input(c, b));
    control_destroy(c);
}

/* A browser viewer belongs to its web session: the page's paste and the
 * viewer's keys are one holder; the keyboard goes when the last session of
 * the group that can type leaves. */
static void test_exclusive_group(void **state)
{
    (void)state;
    struct control *c = make("exclusive", 60);
    struct owner_ctx oc = {.c = c};
    struct control_owner *o = control_owner_add(c, "web", NULL, on_end, &oc);
    unsigned web = control_session_open(c, o, CONTROL_IF_WEB, "alice", "a", AUTH_ROLE_OPERATOR, 1, 0);
    unsigned view = control_session_open(c, o, CONTROL_IF_BROWSER, "alice", "a", AUTH_ROLE_OPERATOR, 2, web);
    unsigned other = control_session_open(c, o, CONTROL_IF_BROWSER, "bob", "b", AUTH_ROLE_OPERATOR, 3, 0);
    struct control_session_info i;
    assert_int_equal(control_get(c, view, &i), 0);
    assert_int_equal(i.parent, web);
    assert_true(control_input(c, view));
    assert_true(control_input(c, web)); /* the same page's paste */
    assert_false(control_input(c, other));
    assert_int_equal(control_get(c, web, &i), 0);
    assert_true(i.holder);
    assert_int_equal(control_request(c, other), 1);
    assert_int_equal(control_get(c, other, &i), 0);
    assert_true(i.requested);
    struct control_state st;
    control_get_state(c, &st);
    assert_int_equal(st.holder, web);
    /* The viewer goes: the web session alone cannot type, so the keyboard is free. */
    control_session_close(c, view);
    control_get_state(c, &st);
    assert_int_equal(st.holder, 0);
    assert_true(control_input(c, other));
    control_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_and_end),
        cmocka_unit_test(test_shared_mode),
        cmocka_unit_test(test_exclusive_handover),
        cmocka_unit_test(test_exclusive_idle_release),
        cmocka_unit_test(test_exclusive_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

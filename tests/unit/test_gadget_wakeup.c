/* gadget_hand_wakeup on a fixture tree (a configfs holding the gadget
 * `piglix gadget up` made, and a /sys/class/udc of our own): the bound
 * UDC's srp goes to the daemon's user with its mode kept; a gadget that is
 * not bound is an error that touches nothing; a UDC without srp (an old
 * kernel) is no error. The chown itself needs root (as `gadget up` has). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "gadget/gadget.h"
#include "tests/support/tmpdir.h"

/* not a user of this machine: a chown that happened cannot be mistaken */
#define DAEMON_UID 4242
#define DAEMON_GID 4343

struct fixture {
    char root[64], configfs[128], udc[128], srp[256], udc_file[256];
};

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0); /* whatever the umask */
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->root, sizeof(f->root), "/tmp/piglix-gadget-wakeup-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    char dir[256];
    snprintf(f->configfs, sizeof(f->configfs), "%s/config", f->root);
    snprintf(f->udc, sizeof(f->udc), "%s/udc", f->root);
    snprintf(f->srp, sizeof(f->srp), "%s/dummy_udc.0/srp", f->udc);
    snprintf(f->udc_file, sizeof(f->udc_file), "%s/usb_gadget/%s/UDC", f->configfs, GADGET_NAME);
    const char *dirs[] = {"config", "config/usb_gadget", "config/usb_gadget/piglix", "udc", "udc/dummy_udc.0"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(dir, sizeof(dir), "%s/%s", f->root, dirs[i]);
        if (mkdir(dir, 0700) < 0)
            return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int r = test_tmpdir_remove(f->root);
    free(f);
    return r == 0 ? 0 : -1;
}

static struct gadget *attach(struct fixture *f)
{
    struct gadget_params p = {.configfs = f->configfs};
    struct gadget *g = gadget_attach(&p);
    assert_non_null(g);
    return g;
}

static void test_srp_handed_mode_kept(void **state)
{
    struct fixture *f = *state;
    if (geteuid() != 0)
        skip(); /* chown to another user: root only, as for `piglix gadget up` */
    write_file(f->udc_file, "dummy_udc.0\n", 0644);
    write_file(f->srp, "", 0200);
    struct gadget *g = attach(f);
    assert_int_equal(gadget_hand_wakeup(g, f->udc, DAEMON_UID, DAEMON_GID), 0);
    struct stat st;
    assert_int_equal(stat(f->srp, &st), 0);
    assert_int_equal(st.st_uid, DAEMON_UID);
    assert_int_equal(st.st_gid, DAEMON_GID);
    assert_int_equal(st.st_mode & 07777, 0200);
    gadget_release(g);
}

static void test_not_bound_touches_nothing(void **state)
{
    struct fixture *f = *state;
    write_file(f->udc_file, "\n", 0644); /* configfs' UDC of an unbound gadget */
    write_file(f->srp, "", 0200);
    struct stat before, after;
    assert_int_equal(stat(f->srp, &before), 0);
    struct gadget *g = attach(f);
    assert_int_equal(gadget_hand_wakeup(g, f->udc, DAEMON_UID, DAEMON_GID), -ENOTCONN);
    /* nor a name that would leave the controllers' directory */
    write_file(f->udc_file, "..\n", 0644);
    assert_int_equal(gadget_hand_wakeup(g, f->udc, DAEMON_UID, DAEMON_GID), -ENOTCONN);
    assert_int_equal(stat(f->srp, &after), 0);
    assert_int_equal(after.st_uid, before.st_uid);
    assert_int_equal(after.st_gid, before.st_gid);
    gadget_release(g);
}

static void test_no_srp_is_no_error(void **state)
{
    struct fixture *f = *state;
    write_file(f->udc_file, "dummy_udc.0\n", 0644);
    struct gadget *g = attach(f);
    assert_int_equal(gadget_hand_wakeup(g, f->udc, DAEMON_UID, DAEMON_GID), 0);
    assert_int_equal(access(f->srp, F_OK), -1); /* and nothing was made */
    gadget_release(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_srp_handed_mode_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_bound_touches_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_srp_is_no_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

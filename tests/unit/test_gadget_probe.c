/* gadget_probe on a fixture tree (a configfs and a /sys/class/udc of our
 * own): each missing piece gives its own reason, and the controller (the
 * hardware) is named before configfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "gadget/gadget.h"
#include "tests/support/tmpdir.h"

struct fixture {
    char root[64], configfs[128], gadgets[160], udc[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->root, sizeof(f->root), "/tmp/piglix-gadget-probe-XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->configfs, sizeof(f->configfs), "%s/config", f->root);
    snprintf(f->gadgets, sizeof(f->gadgets), "%s/usb_gadget", f->configfs);
    snprintf(f->udc, sizeof(f->udc), "%s/udc", f->root);
    if (mkdir(f->configfs, 0700) < 0 || mkdir(f->udc, 0700) < 0)
        return -1;
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

static void add_udc(struct fixture *f, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", f->udc, name);
    assert_int_equal(mkdir(path, 0700), 0);
}

static void test_no_controller_first(void **state)
{
    struct fixture *f = *state;
    char why[512] = "";
    /* nothing at all: the controller is what is named */
    assert_int_equal(gadget_probe(f->configfs, f->udc, NULL, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "no USB device controller in"));
    assert_non_null(strstr(why, "dtoverlay=dwc2"));
    /* a udc directory that does not exist at all is the same */
    char missing[200];
    snprintf(missing, sizeof(missing), "%s/nope", f->root);
    assert_int_equal(gadget_probe(f->configfs, missing, "", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "no USB device controller in"));
}

static void test_named_controller(void **state)
{
    struct fixture *f = *state;
    char why[512] = "";
    add_udc(f, "fe980000.usb");
    assert_int_equal(mkdir(f->gadgets, 0700), 0);
    assert_int_equal(gadget_probe(f->configfs, f->udc, "dummy_udc.0", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "no USB device controller 'dummy_udc.0'"));
    assert_int_equal(gadget_probe(f->configfs, f->udc, "fe980000.usb", why, sizeof(why)), 0);
}

static void test_no_configfs(void **state)
{
    struct fixture *f = *state;
    char why[512] = "";
    add_udc(f, "dummy_udc.0");
    assert_int_equal(gadget_probe(f->configfs, f->udc, NULL, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "no USB gadget configfs"));
    assert_non_null(strstr(why, "libcomposite"));
    /* configfs comes (libcomposite loaded): ready */
    assert_int_equal(mkdir(f->gadgets, 0700), 0);
    assert_int_equal(gadget_probe(f->configfs, f->udc, NULL, why, sizeof(why)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_controller_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_controller, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_configfs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

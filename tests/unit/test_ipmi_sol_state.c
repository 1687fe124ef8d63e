/* Unit tests for ipmi/ipmi_sol_state.c: the SOL parameters kept in
 * [state] dir/ipmi.sol: what is written reads back the same, the file is
 * 0600 and replaced whole, a missing file leaves the defaults, and lines
 * that do not parse (unknown keys, values out of range, a privilege below
 * Operator) leave those parameters alone and are counted. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipmi/ipmi_internal.h"
#include "ipmi/ipmi_sol.h"

static void test_parse(void **state)
{
    (void)state;
    struct ipmi_sol_config k, d;
    ipmi_sol_config_defaults(&d);
    k = d;
    const char good[] = "# comment\n\n enabled = no \nprivilege=4\naccumulate_5ms = 2\r\nthreshold = 64\n"
                        "retry_count = 3\nretry_10ms = 0";
    assert_int_equal(ipmi_sol_state_parse(good, strlen(good), &k), 0);
    assert_false(k.enabled);
    assert_int_equal(k.privilege, 4);
    assert_int_equal(k.accumulate_5ms, 2);
    assert_int_equal(k.threshold, 64);
    assert_int_equal(k.retry_count, 3);
    assert_int_equal(k.retry_10ms, 0);

    k = d;
    const char bad[] = "enabled = maybe\nprivilege = 2\nprivilege = 5\naccumulate_5ms = 0\nthreshold = 256\n"
                       "retry_count = 8\nretry_10ms = -1\nretry_10ms = 1x\nnonsense\nbaud = 9600\n = 3\n";
    assert_int_equal(ipmi_sol_state_parse(bad, strlen(bad), &k), 11);
    assert_memory_equal(&k, &d, sizeof(k));

    char longline[300];
    memset(longline, 'a', sizeof(longline));
    k = d;
    assert_int_equal(ipmi_sol_state_parse(longline, sizeof(longline), &k), 1);
    const char nul[] = "threshold = 9\0\nretry_count = 1\n";
    assert_int_equal(ipmi_sol_state_parse(nul, sizeof(nul) - 1, &k), 1);
    assert_int_equal(k.threshold, d.threshold);
    assert_int_equal(k.retry_count, 1);
}

static void test_save_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/piglix-solstate-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct ipmi_sol_config k, d;
    ipmi_sol_config_defaults(&d);
    k = d;
    assert_int_equal(ipmi_sol_state_load(dir, &k), 0);     /* no file: the defaults */
    assert_memory_equal(&k, &d, sizeof(k));
    k.enabled = false;
    k.privilege = 4;
    k.accumulate_5ms = 200;
    k.threshold = 1;
    k.retry_count = 0;
    k.retry_10ms = 255;
    k.set_in_progress = 1;
    assert_int_equal(ipmi_sol_state_save(dir, &k), 0);
    k.threshold = 2;    /* replaced whole */
    assert_int_equal(ipmi_sol_state_save(dir, &k), 0);
    struct ipmi_sol_config got = d;
    assert_int_equal(ipmi_sol_state_load(dir, &got), 1);
    k.set_in_progress = 0;  /* not kept: a set in progress does not outlive the daemon */
    assert_memory_equal(&got, &k, sizeof(k));
    char path[300];
    snprintf(path, sizeof(path), "%s/%s", dir, IPMI_SOL_STATE_FILE);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    DIR *dh = opendir(dir);     /* no temporary file left beside it */
    int entries = 0;
    for (struct dirent *e; (e = readdir(dh));)
        entries += e->d_name[0] != '.';
    closedir(dh);
    assert_int_equal(entries, 1);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_save_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

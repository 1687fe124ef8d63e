/* ipmi/ipmi_sel.c: audit records as SEL system event records (sensor
 * type, event type, offset, direction), record ids wrapping within
 * 1..FFFEh, and the SEL commands over a real audit log in a temporary
 * [state] dir: Get SEL Entry walking first to last, partial reads and
 * Clear SEL needing the reservation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "audit/audit.h"
#include "ipmi/ipmi_sel.h"
#include "tests/support/tmpdir.h"

static void rec(enum audit_kind kind, const char *detail, uint8_t out[IPMI_SEL_RECORD])
{
    struct audit_event ev = {.id = 7, .time_ms = 1700000000999, .kind = kind, .iface = AUDIT_IF_WEB};
    snprintf(ev.detail, sizeof(ev.detail), "%s", detail);
    ipmi_sel_record(&ev, out);
}

static void test_record_mapping(void **state)
{
    (void)state;
    uint8_t r[IPMI_SEL_RECORD];
    rec(AUDIT_LOGIN_FAILED, "wrong password", r);
    assert_int_equal(r[0] | r[1] << 8, 7);
    assert_int_equal(r[2], 0x02);
    assert_int_equal(r[3] | r[4] << 8 | r[5] << 16 | (uint32_t)r[6] << 24, 1700000000);
    assert_int_equal(r[7], 0x20);
    assert_int_equal(r[9], 0x04);
    assert_int_equal(r[10], 0x2a);
    assert_int_equal(r[12], 0x6f);
    assert_int_equal(r[13], 0x02);
    rec(AUDIT_ROLE_REFUSED, "power on", r);
    assert_int_equal(r[10], 0x06);
    rec(AUDIT_CHASSIS_INTRUSION, "atx.intrusion (intrusion): critical: open", r);
    assert_int_equal(r[10], 0x05);
    assert_int_equal(r[12], 0x6f);
    rec(AUDIT_CHASSIS_INTRUSION, "atx.intrusion (intrusion): back to ok: closed", r);
    assert_int_equal(r[12], 0xef); /* deassertion */
    rec(AUDIT_SENSOR_THRESHOLD, "hwmon.x (voltage): critical: 11.2 V, below lower critical 11.4 V", r);
    assert_int_equal(r[10], 0x02);
    assert_int_equal(r[12], 0x01);
    assert_int_equal(r[13], 0x02);
    rec(AUDIT_SENSOR_THRESHOLD, "hwmon.t (temperature): warning: 71 C, above upper warning 70 C", r);
    assert_int_equal(r[10], 0x01);
    assert_int_equal(r[13], 0x07);
    rec(AUDIT_POWER_ACTION, "chassis control power down (force-off): ok", r);
    assert_int_equal(r[10], 0x09);
    assert_int_equal(r[13], 0x00);
    rec(AUDIT_POWER_ACTION, "reset: ok", r);
    assert_int_equal(r[10], 0x1d);
    assert_int_equal(r[13], 0x01);
    rec(AUDIT_POWER_ACTION, "ComputerSystem.Reset On (on): ok", r);
    assert_int_equal(r[10], 0x1d);
    assert_int_equal(r[13], 0x00);
    rec(AUDIT_LOG_CLEARED, "", r);
    assert_int_equal(r[10], 0x10);
    assert_int_equal(r[13], 0x02);
    /* Ids stay in 1..FFFEh: 0000h and FFFFh mean first and last. */
    assert_int_equal(ipmi_sel_id(1), 1);
    assert_int_equal(ipmi_sel_id(0xfffe), 0xfffe);
    assert_int_equal(ipmi_sel_id(0xffff), 1);
}

static void test_commands(void **state)
{
    (void)state;
    char dir[64];
    strcpy(dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/piglix-sel-XXXXXX" : "/tmp/piglix-sel-XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct config_audit cfg = {.max_kb = 64, .files = 2};
    assert_int_equal(audit_open(&cfg, dir, true, stderr), 0);
    for (int i = 0; i < 5; i++)
        audit_record(AUDIT_LOGIN, AUDIT_IF_IPMI, AUDIT_OK, "admin", "192.0.2.1:623", "n %d", i);
    struct ipmi_sel sel = {0};
    uint8_t r[64];
    assert_int_equal(ipmi_sel_command(&sel, 0x40, NULL, 0, r, "admin", "p", 1000), 15);
    assert_int_equal(r[0], 0);
    assert_int_equal(r[2] | r[3] << 8, 5);
    /* Walk from the first (0000h) to the end (next FFFFh). */
    uint8_t get[6] = {0, 0, 0, 0, 0, 0xff};
    int n = 0;
    for (;;) {
        assert_int_equal(ipmi_sel_command(&sel, 0x43, get, 6, r, "admin", "p", 1000), 3 + IPMI_SEL_RECORD);
        assert_int_equal(r[0], 0);
        n++;
        assert_int_equal(r[3] | r[4] << 8, n);
        if ((r[1] | r[2] << 8) == 0xffff)
            break;
        get[2] = r[1];
        get[3] = r[2];
    }
    assert_int_equal(n, 5);
    /* Made-up ids in a loop (security_doors): the log is read again for a
     * missing id at most every 250 ms, not once per request. */
    uint8_t missing[6] = {0, 0, 0x34, 0x12, 0, 0xff};
    for (int64_t t = 1001; t < 1200; t++) {
        assert_int_equal(ipmi_sel_command(&sel, 0x43, missing, 6, r, "admin", "p", t), 1);
        assert_int_equal(r[0], 0xcb);
    }
    assert_int_equal(sel.loaded_ms, 1000);
    assert_int_equal(ipmi_sel_command(&sel, 0x43, missing, 6, r, "admin", "p", 1250), 1);
    assert_int_equal(sel.loaded_ms, 1250);
    /* A partial read needs the current reservation. */
    uint8_t part[6] = {0, 0, 1, 0, 8, 4};
    assert_int_equal(ipmi_sel_command(&sel, 0x43, part, 6, r, "admin", "p", 1000), 1);
    assert_int_equal(r[0], 0xc5);
    assert_int_equal(ipmi_sel_command(&sel, 0x42, NULL, 0, r, "admin", "p", 1000), 3);
    part[0] = r[1];
    part[1] = r[2];
    uint8_t clr[6] = {r[1], r[2], 'C', 'L', 'R', 0xaa};
    assert_int_equal(ipmi_sel_command(&sel, 0x43, part, 6, r, "admin", "p", 1000), 3 + 4);
    /* bytes 8-11: generator's channel, event message format, sensor type, number */
    assert_int_equal(r[3], 0x00);
    assert_int_equal(r[4], 0x04);
    assert_int_equal(r[5], 0x2a);
    assert_int_equal(r[6], 0xff);
    /* Clear SEL: a wrong reservation is refused; then one record remains. */
    uint8_t bad[6] = {(uint8_t)(clr[0] + 1), clr[1], 'C', 'L', 'R', 0xaa};
    assert_int_equal(ipmi_sel_command(&sel, 0x47, bad, 6, r, "admin", "p", 1000), 1);
    assert_int_equal(r[0], 0xc5);
    assert_int_equal(ipmi_sel_command(&sel, 0x47, clr, 6, r, "admin", "192.0.2.1:623", 3000), 2);
    assert_int_equal(r[1], 0x01);
    assert_int_equal(ipmi_sel_command(&sel, 0x40, NULL, 0, r, "admin", "p", 5000), 15);
    assert_int_equal(r[2] | r[3] << 8, 1);
    get[2] = get[3] = 0;
    assert_int_equal(ipmi_sel_command(&sel, 0x43, get, 6, r, "admin", "p", 5000), 3 + IPMI_SEL_RECORD);
    assert_int_equal(r[3 + 10], 0x10); /* Event Logging: log area cleared */
    ipmi_sel_free(&sel);
    audit_close();
    assert_int_equal(test_tmpdir_remove(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_mapping),
        cmocka_unit_test(test_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

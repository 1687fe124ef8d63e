/* audit: the file format (a torn or corrupted record is dropped on load and
 * the next append starts on a clean line), rotation and its bounds, paging
 * and filters, clearing, the queue under many threads, the syslog format. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

#include "audit/audit.h"
#include "audit/audit_internal.h"
#include "tests/support/tmpdir.h"

static char dir[64];
static char logpath[128];

static void fresh_dir(void)
{
    /* tmpfs when there is one: fsync per record on a disk costs seconds here. */
    strcpy(dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/piglix-audit-XXXXXX" : "/tmp/piglix-audit-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(logpath, sizeof(logpath), "%s/audit.log", dir);
}

static void remove_dir(void)
{
    assert_int_equal(test_tmpdir_remove(dir), 0);
}

static void open_log(int max_kb, int files, bool direct)
{
    struct config_audit cfg = {.max_kb = max_kb, .files = files};
    assert_int_equal(audit_open(&cfg, dir, direct, stderr), 0);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static size_t query_all(struct audit_event *out, size_t max)
{
    struct audit_query q = {0};
    size_t n;
    uint64_t next;
    assert_int_equal(audit_query(&q, out, max, &n, &next), 0);
    return n;
}

static void test_line_roundtrip_and_damage(void **state)
{
    (void)state;
    struct audit_event ev = {.id = 42, .time_ms = 1700000000123, .kind = AUDIT_LOGIN_FAILED,
                             .iface = AUDIT_IF_REDFISH, .outcome = AUDIT_FAILED};
    strcpy(ev.account, "alice");
    strcpy(ev.address, "2001:db8::1");
    strcpy(ev.detail, "bad password \xc3\xa9");
    char line[AUDIT_LINE_MAX + 1];
    int len = audit_format_line(&ev, line, sizeof(line));
    assert_true(len > 19);
    assert_int_equal(line[len - 1], '\n');
    struct audit_event back;
    assert_int_equal(audit_parse_line(line, (size_t)len, &back), 0);
    assert_int_equal(back.id, 42);
    assert_int_equal(back.time_ms, 1700000000123);
    assert_int_equal(back.kind, AUDIT_LOGIN_FAILED);
    assert_int_equal(back.iface, AUDIT_IF_REDFISH);
    assert_int_equal(back.outcome, AUDIT_FAILED);
    assert_string_equal(back.account, "alice");
    assert_string_equal(back.address, "2001:db8::1");
    assert_string_equal(back.detail, ev.detail);
    /* Torn anywhere: too short for its length, or no line end. */
    for (int cut = 1; cut < len; cut++)
        assert_int_equal(audit_parse_line(line, (size_t)cut, &back), -1);
    /* One flipped bit anywhere in the payload fails the CRC. */
    for (int i = 18; i < len - 1; i++) {
        char bad[AUDIT_LINE_MAX + 1];
        memcpy(bad, line, (size_t)len);
        bad[i] ^= 0x01;
        assert_int_equal(audit_parse_line(bad, (size_t)len, &back), -1);
    }
    /* Zeros where a power loss left the file's blocks unwritten. */
    char zeros[64] = {0};
    zeros[63] = '\n';
    assert_int_equal(audit_parse_line(zeros, sizeof(zeros), &back), -1);
    /* A tab in a field would shift the others: refused when formatting. */
    strcpy(ev.account, "a\tb");
    assert_int_equal(audit_format_line(&ev, line, sizeof(line)), -1);
}

static void test_sanitize(void **state)
{
    (void)state;
    char out[16];
    audit_sanitize(out, sizeof(out), "a\tb\nc\x1b[");
    assert_string_equal(out, "a?b?c?[");
    audit_sanitize(out, sizeof(out), "x\xff\xc3(y");
    assert_string_equal(out, "x?" "?(y");
    /* Cut on a character boundary: "éééééééé" is 16 bytes. */
    audit_sanitize(out, sizeof(out), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    assert_int_equal(strlen(out), 14);
    audit_sanitize(out, sizeof(out), NULL);
    assert_string_equal(out, "");
    /* Valid UTF-8 that controls the display (security_doors): U+009B (an
     * 8-bit CSI), U+2028, U+202E (right-to-left override), U+2066; not
     * U+00A0 or U+2030. */
    audit_sanitize(out, sizeof(out), "a\xc2\x9b" "2Jb\xe2\x80\xa8" "c");
    assert_string_equal(out, "a?2Jb?c");
    audit_sanitize(out, sizeof(out), "\xe2\x80\xaenimda\xe2\x81\xa6");
    assert_string_equal(out, "?nimda?");
    audit_sanitize(out, sizeof(out), "\xc2\xa0\xe2\x80\xb0");
    assert_string_equal(out, "\xc2\xa0\xe2\x80\xb0");
}

static void test_torn_record_dropped(void **state)
{
    (void)state;
    fresh_dir();
    open_log(64, 2, true);
    audit_record(AUDIT_LOGIN, AUDIT_IF_WEB, AUDIT_OK, "alice", "192.0.2.1", "session");
    audit_record(AUDIT_POWER_ACTION, AUDIT_IF_API, AUDIT_OK, "alice", "192.0.2.1", "on");
    audit_record(AUDIT_LOGOUT, AUDIT_IF_WEB, AUDIT_OK, "alice", "192.0.2.1", NULL);
    audit_close();
    off_t whole = file_size(logpath);
    /* A crash in the middle of a write: half a line at the end. */
    int fd = open(logpath, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    const char torn[] = "00000040 1234abcd 4\t17000";
    assert_int_equal(write(fd, torn, sizeof(torn) - 1), (ssize_t)sizeof(torn) - 1);
    close(fd);

    open_log(64, 2, true);
    assert_int_equal(file_size(logpath), whole); /* cut back on open */
    audit_record(AUDIT_LOGIN_FAILED, AUDIT_IF_VNC, AUDIT_FAILED, "", "192.0.2.9", "bad password");
    struct audit_event evs[8];
    size_t n = query_all(evs, 8);
    assert_int_equal(n, 4);
    assert_int_equal(evs[0].id, 4);
    assert_int_equal(evs[0].kind, AUDIT_LOGIN_FAILED);
    assert_string_equal(evs[0].address, "192.0.2.9");
    assert_int_equal(evs[3].id, 1);
    assert_string_equal(evs[3].account, "alice");
    audit_close();

    /* A record damaged in the middle of the file is skipped, the rest load. */
    char buf[4096];
    fd = open(logpath, O_RDWR);
    ssize_t len = read(fd, buf, sizeof(buf));
    assert_true(len > 0);
    char *second = memchr(buf, '\n', (size_t)len) + 1;
    second[30] ^= 0x20;
    assert_int_equal(pwrite(fd, buf, (size_t)len, 0), len);
    close(fd);
    open_log(64, 2, true);
    n = query_all(evs, 8);
    assert_int_equal(n, 3);
    assert_int_equal(evs[0].id, 4);
    assert_int_equal(evs[1].id, 3);
    assert_int_equal(evs[2].id, 1);
    audit_close();
    remove_dir();
}

static void test_rotation_bounds(void **state)
{
    (void)state;
    fresh_dir();
    open_log(16, 3, true);
    for (int i = 0; i < 800; i++)
        audit_record(AUDIT_MEDIA_MOUNT, AUDIT_IF_API, AUDIT_OK, "bob", "198.51.100.7", "image %d.iso", i);
    char p[160];
    for (int k = 0; k < 3; k++) {
        if (k)
            snprintf(p, sizeof(p), "%s.%d", logpath, k);
        else
            snprintf(p, sizeof(p), "%s", logpath);
        off_t sz = file_size(p);
        assert_true(sz > 0);
        assert_true(sz <= 16 * 1024);
    }
    snprintf(p, sizeof(p), "%s.3", logpath);
    assert_int_equal(file_size(p), -1); /* never more than [audit] files */
    struct audit_stats st;
    assert_int_equal(audit_stats(&st), 0);
    assert_int_equal(st.last_id, 800);
    assert_true(st.first_id > 1);
    assert_int_equal(st.count, st.last_id - st.first_id + 1); /* nothing missing in between */
    assert_true(st.bytes <= 3 * 16 * 1024);
    assert_int_equal(st.max_bytes, 3 * 16 * 1024);
    audit_close();
    /* Ids go on after a restart. */
    open_log(16, 3, true);
    audit_record(AUDIT_MEDIA_EJECT, AUDIT_IF_API, AUDIT_OK, "bob", "198.51.100.7", NULL);
    struct audit_event ev;
    assert_int_equal(audit_get(801, &ev), 1);
    assert_int_equal(ev.kind, AUDIT_MEDIA_EJECT);
    assert_int_equal(audit_get(1, &ev), 0);
    audit_close();
    remove_dir();
}

static void test_query_paging_filters(void **state)
{
    (void)state;
    fresh_dir();
    open_log(64, 2, true);
    for (int i = 0; i < 25; i++)
        audit_record(i % 2 ? AUDIT_LOGIN : AUDIT_POWER_ACTION, AUDIT_IF_WEB, AUDIT_OK, "carol", "::1", "%d", i);
    struct audit_event evs[10];
    struct audit_query q = {.kinds = 1u << AUDIT_POWER_ACTION};
    size_t n, total = 0;
    uint64_t next, prev = UINT64_MAX;
    do {
        assert_int_equal(audit_query(&q, evs, 5, &n, &next), 0);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(evs[i].kind, AUDIT_POWER_ACTION);
            assert_true(evs[i].id < prev); /* newest first, no repeats across pages */
            prev = evs[i].id;
        }
        total += n;
        q.before_id = next;
    } while (next);
    assert_int_equal(total, 13);
    /* A time range: everything is from the last seconds. */
    struct audit_query all = {0};
    assert_int_equal(audit_query(&all, evs, 10, &n, &next), 0);
    assert_int_equal(n, 10);
    assert_int_equal(next, evs[9].id);
    struct audit_query later = {.since_ms = evs[0].time_ms + 60000};
    assert_int_equal(audit_query(&later, evs, 10, &n, &next), 0);
    assert_int_equal(n, 0);
    assert_int_equal(next, 0);
    /* An offset (Redfish's $skip), in two reads whatever its size: the 13
     * power records, newest first, are 25, 23, ... (ids 25 - 2k); skipping
     * 4 starts at 17, the next page after 3 is 11; past the end, nothing. */
    struct audit_query off = {.kinds = 1u << AUDIT_POWER_ACTION, .skip = 4};
    assert_int_equal(audit_query(&off, evs, 3, &n, &next), 0);
    assert_int_equal(n, 3);
    assert_int_equal(evs[0].id, 17);
    assert_int_equal(evs[2].id, 13);
    assert_int_equal(next, 13);
    off.skip = 11;
    assert_int_equal(audit_query(&off, evs, 5, &n, &next), 0);
    assert_int_equal(n, 2);
    assert_int_equal(evs[1].id, 1);
    assert_int_equal(next, 0);
    off.skip = 1000000;
    assert_int_equal(audit_query(&off, evs, 5, &n, &next), 0);
    assert_int_equal(n, 0);
    audit_close();
    remove_dir();
}

static void test_clear_keeps_ids(void **state)
{
    (void)state;
    fresh_dir();
    open_log(16, 2, true);
    for (int i = 0; i < 300; i++)
        audit_record(AUDIT_LOGIN, AUDIT_IF_IPMI, AUDIT_OK, "dave", "203.0.113.5", NULL);
    assert_int_equal(audit_clear(AUDIT_IF_IPMI, "dave", "203.0.113.5"), 0);
    struct audit_event evs[4];
    size_t n = query_all(evs, 4);
    assert_int_equal(n, 1);
    assert_int_equal(evs[0].kind, AUDIT_LOG_CLEARED);
    assert_int_equal(evs[0].id, 301);
    char p[160];
    snprintf(p, sizeof(p), "%s.1", logpath);
    assert_int_equal(file_size(p), -1);
    audit_close();
    remove_dir();
}

static void *burst(void *arg)
{
    for (int i = 0; i < 200; i++)
        audit_record(AUDIT_LOGIN_FAILED, AUDIT_IF_WEB, AUDIT_FAILED, "mallory", "192.0.2.66", "%ld.%d",
                     (long)(intptr_t)arg, i);
    return NULL;
}

static void test_writer_thread(void **state)
{
    (void)state;
    fresh_dir();
    open_log(256, 2, false);
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, burst, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    struct audit_stats st;
    assert_int_equal(audit_stats(&st), 0);
    /* Whatever the queue could not take is counted, never lost silently. */
    assert_int_equal(st.count + st.dropped, 800);
    assert_int_equal(st.count, st.last_id);
    audit_close();
    /* Everything queued was written before close returned. */
    open_log(256, 2, true);
    struct audit_stats st2;
    assert_int_equal(audit_stats(&st2), 0);
    assert_int_equal(st2.count, st.count);
    audit_close();
    remove_dir();
}

static void test_syslog_format(void **state)
{
    (void)state;
    enum audit_syslog_proto proto;
    char host[64], port[8];
    assert_int_equal(audit_syslog_parse_url("udp://192.0.2.1:514", &proto, host, sizeof(host), port, sizeof(port)), 0);
    assert_int_equal(proto, AUDIT_SYSLOG_UDP);
    assert_string_equal(host, "192.0.2.1");
    assert_string_equal(port, "514");
    assert_int_equal(audit_syslog_parse_url("tcp://[::1]:601", &proto, host, sizeof(host), port, sizeof(port)), 0);
    assert_int_equal(proto, AUDIT_SYSLOG_TCP);
    assert_string_equal(host, "::1");
    assert_int_equal(audit_syslog_parse_url("tcp://::1:601", &proto, host, sizeof(host), port, sizeof(port)), -1);
    assert_int_equal(audit_syslog_parse_url("http://a:1", &proto, host, sizeof(host), port, sizeof(port)), -1);
    assert_int_equal(audit_syslog_parse_url("udp://a:70000", &proto, host, sizeof(host), port, sizeof(port)), -1);
    assert_int_equal(audit_syslog_parse_url("udp://a b:1", &proto, host, sizeof(host), port, sizeof(port)), -1);

    struct audit_event ev = {.id = 7, .time_ms = 1700000000123, .kind = AUDIT_ROLE_REFUSED,
                             .iface = AUDIT_IF_REDFISH, .outcome = AUDIT_REFUSED};
    strcpy(ev.account, "vi\"ew]er");
    strcpy(ev.address, "192.0.2.3");
    strcpy(ev.detail, "ComputerSystem.Reset");
    char msg[1024];
    assert_true(audit_syslog_format(&ev, "kvm1", 99, msg, sizeof(msg)) > 0);
    assert_string_equal(msg, "<84>1 2023-11-14T22:13:20.123Z kvm1 piglix 99 role_refused [piglix@32473 id=\"7\" "
                             "account=\"vi\\\"ew\\]er\" address=\"192.0.2.3\" interface=\"redfish\" "
                             "outcome=\"refused\"] ComputerSystem.Reset");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_roundtrip_and_damage),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_torn_record_dropped),
        cmocka_unit_test(test_rotation_bounds),
        cmocka_unit_test(test_query_paging_filters),
        cmocka_unit_test(test_clear_keeps_ids),
        cmocka_unit_test(test_writer_thread),
        cmocka_unit_test(test_syslog_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

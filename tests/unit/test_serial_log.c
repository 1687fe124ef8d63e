/* Unit tests for serial/serial_log: a timestamp at the start of every line
 * (the time its first byte came), rotation only between lines and bounded
 * sizes, appending across restarts, and a line torn by a crash ended before
 * the next one. */
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

#include "serial/serial_internal.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/piglix-serial-log-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}

static char *slurp(const char *name, size_t *len)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

static void put(struct serial_log *l, const char *s, time_t sec, long ms)
{
    struct timespec t = {.tv_sec = sec, .tv_nsec = ms * 1000000L};
    assert_int_equal(serial_log_write(l, (const uint8_t *)s, strlen(s), &t), 0);
}

static void test_stamp(void **state)
{
    (void)state;
    char s[SERIAL_LOG_STAMP_LEN + 1];
    struct timespec t = {.tv_sec = 1796515200 + 3723, .tv_nsec = 45678901};
    serial_log_stamp(&t, s);
    assert_string_equal(s, "2026-12-06T01:02:03.045Z ");
    assert_int_equal(strlen(s), SERIAL_LOG_STAMP_LEN);
}

static void test_lines_stamped_when_they_begin(void **state)
{
    (void)state;
    struct serial_log l;
    assert_int_equal(serial_log_open(&l, dir, 1 << 20, 2), 0);
    put(&l, "BIOS v1", 1796515200, 0);
    put(&l, ".0\r\nLoading", 1796515201, 500);      /* the first line began at :00 */
    put(&l, " kernel\r\n\r\nlogin: ", 1796515202, 250);
    serial_log_close(&l);
    size_t len;
    char *s = slurp(SERIAL_LOG_NAME, &len);
    assert_non_null(s);
    assert_string_equal(s, "2026-12-06T00:00:00.000Z BIOS v1.0\r\n"
                           "2026-12-06T00:00:01.500Z Loading kernel\r\n"
                           "2026-12-06T00:00:02.250Z \r\n"
                           "2026-12-06T00:00:02.250Z login: ");
    free(s);
}

static void test_restart_appends_and_ends_torn_line(void **state)
{
    (void)state;
    struct serial_log l;
    assert_int_equal(serial_log_open(&l, dir, 1 << 20, 2), 0);
    put(&l, "one\nhalf a li", 1796515200, 0);
    serial_log_close(&l);       /* piglix killed in the middle of a line */
    assert_int_equal(serial_log_open(&l, dir, 1 << 20, 2), 0);
    put(&l, "ne\n", 1796515260, 0);
    serial_log_close(&l);
    size_t len;
    char *s = slurp(SERIAL_LOG_NAME, &len);
    assert_string_equal(s, "2026-12-06T00:00:00.000Z one\n"
                           "2026-12-06T00:00:00.000Z half a li\n"
                           "2026-12-06T00:01:00.000Z ne\n");
    free(s);
}

/* Every file is whole lines, each stamped, and none grows past the limit
 * by more than one line. */
static void test_rotation(void **state)
{
    (void)state;
    struct serial_log l;
    const size_t max = 1000;
    assert_int_equal(serial_log_open(&l, dir, max, 2), 0);
    char line[64];
    for (int i = 0; i < 300; i++) {
        snprintf(line, sizeof(line), "line %04d of the boot log\n", i);
        /* Split each line across two writes, as a tty delivers it. */
        char a[64];
        snprintf(a, sizeof(a), "%.7s", line);
        put(&l, a, 1796515200 + i, 0);
        put(&l, line + 7, 1796515200 + i, 1);
    }
    serial_log_close(&l);
    const char *names[] = {SERIAL_LOG_NAME, SERIAL_LOG_NAME ".1", SERIAL_LOG_NAME ".2"};
    int last_seen = 1000;
    for (int f = 0; f < 3; f++) {
        size_t len;
        char *s = slurp(names[f], &len);
        assert_non_null(s);
        assert_true(len > 0);
        assert_true(len <= max + 51);
        assert_int_equal(s[len - 1], '\n');
        int n = 0, first = -1;
        for (char *p = s; *p; p = strchr(p, '\n') + 1) {
            int num;
            assert_int_equal(sscanf(p, "%*24c line %d of the boot log", &num), 1);
            assert_memory_equal(p, "2026-12-06T", 11);
            if (first < 0)
                first = num;
            n++;
        }
        /* Newer files hold later lines. */
        assert_true(first < last_seen);
        last_seen = first;
        free(s);
    }
    size_t len;
    char *s = slurp(SERIAL_LOG_NAME ".3", &len);
    assert_null(s);     /* only log_files are kept */
}

/* Output with no newline at all (a progress bar redrawn with \r) is
 * broken into lines so the file stays bounded. */
static void test_endless_line_bounded(void **state)
{
    (void)state;
    struct serial_log l;
    assert_int_equal(serial_log_open(&l, dir, 8192, 1), 0);
    char chunk[1000];
    memset(chunk, '#', sizeof(chunk) - 1);
    chunk[sizeof(chunk) - 1] = '\0';
    for (int i = 0; i < 100; i++)
        put(&l, chunk, 1796515200, 0);
    serial_log_close(&l);
    struct stat st;
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, SERIAL_LOG_NAME);
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size <= 8192 + SERIAL_LOG_SLACK + 64);
    snprintf(p, sizeof(p), "%s/%s.1", dir, SERIAL_LOG_NAME);
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size <= 8192 + SERIAL_LOG_SLACK + 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamp),
        cmocka_unit_test_setup_teardown(test_lines_stamped_when_they_begin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_appends_and_ends_torn_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endless_line_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

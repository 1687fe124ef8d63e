/* common/log: whatever a client sends into a message (a URL path, a name,
 * a header) stays inside its one line: no newline forges a journal line,
 * no escape sequence reaches the terminal of whoever reads the log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

/* log_msg's output for one message, read back from stderr redirected to a file. */
static void capture(char *out, size_t size, const char *arg)
{
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    assert_true(dup2(fileno(tmp), 2) >= 0);
    LOG_WARN("web", "?@192.0.2.1: %s refused", arg);
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, size - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

static void test_one_line(void **state)
{
    (void)state;
    char out[2048];
    capture(out, sizeof(out), "/api/atx/x\n[  123.456] I web: admin@10.0.0.1: logged in\r\nmore");
    /* one line: the only newline is the last byte */
    assert_non_null(strchr(out, '\n'));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
    assert_null(strchr(out, '\r'));
    assert_non_null(strstr(out, "/api/atx/x?[  123.456] I web: admin@10.0.0.1: logged in??more refused\n"));
}

static void test_escapes(void **state)
{
    (void)state;
    char out[2048];
    /* ESC (7-bit CSI), DEL, and U+009B (8-bit CSI, C2 9B in UTF-8); other
     * UTF-8 and tabs stay */
    capture(out, sizeof(out), "a\x1b[2J\x1b]0;pwned\x07" "b\x7f" "c\xc2\x9b" "31md \xc3\xa9\tok");
    assert_null(strchr(out, 0x1b));
    assert_null(strchr(out, 0x07));
    assert_null(strchr(out, 0x7f));
    assert_null(strstr(out, "\xc2\x9b"));
    assert_non_null(strstr(out, "a?[2J?]0;pwned?b?c??31md \xc3\xa9\tok refused\n"));
}

static void test_sanitize(void **state)
{
    (void)state;
    char s[] = "x\xc2\x80y\xc2\xa0z\xc2";
    log_sanitize(s, strlen(s));
    /* U+0080 is a control, U+00A0 is not; a lone C2 at the end is left */
    assert_string_equal(s, "x??y\xc2\xa0z\xc2");
}

int main(void)
{
    log_set_level(LOG_LEVEL_INFO);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_line),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_sanitize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

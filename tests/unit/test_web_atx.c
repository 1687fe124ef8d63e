/* web/web_atx: what each answer of atx_request() becomes in HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "atx/atx.h"
#include "web/web_internal.h"

static void test_status_codes(void **state)
{
    (void)state;
    assert_int_equal(web_atx_http_status(ATX_OK), 202);          /* accepted, running */
    assert_int_equal(web_atx_http_status(ATX_ERR_ALREADY), 200); /* nothing to do */
    assert_int_equal(web_atx_http_status(ATX_ERR_BUSY), 409);
    assert_int_equal(web_atx_http_status(ATX_ERR_STATE), 409);
    assert_int_equal(web_atx_http_status(ATX_ERR_UNSUPPORTED), 501);
    assert_int_equal(web_atx_http_status(ATX_ERR_INVALID), 400);
    assert_int_equal(web_atx_http_status(ATX_ERR_STOPPED), 503);
    assert_int_equal(web_atx_http_status(99), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

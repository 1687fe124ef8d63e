/* Unit tests for the EDID file reader (capture/v4l2_edid.c) and for the
 * shipped EDID (deploy/edid): it parses, and every mode it offers fits a
 * Raspberry Pi 4's two CSI-2 lanes (pixel clock * 16 bits <= 2 * 972 Mbit/s),
 * with 1920x1080 at 30 Hz preferred. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture/v4l2.h"

#define SHIPPED PIGLIX_SOURCE_DIR "/deploy/edid/tc358743-1080p30.hex"
#define LINK_KBPS (2 * 972000)

static uint8_t edid[V4L2_EDID_MAX_BLOCKS * V4L2_EDID_BLOCK];
static char err[200];

/* A valid one-block EDID as hex text, built here. */
static char *one_block_hex(void)
{
    uint8_t b[128] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x40, 0xf8};
    uint8_t sum = 0;
    for (int i = 0; i < 127; i++)
        sum = (uint8_t)(sum + b[i]);
    b[127] = (uint8_t)(0x100 - sum);
    char *text = malloc(1024); /* 8 rows of 16 "XX " plus comments */
    char *p = text + sprintf(text, "# a comment line\n");
    for (int i = 0; i < 128; i++)
        p += sprintf(p, "%02X%s", b[i], i % 16 == 15 ? "  # row\n" : " ");
    return text;
}

static void test_parses_with_comments_and_case(void **state)
{
    (void)state;
    char *text = one_block_hex();
    assert_int_equal(v4l2_edid_parse(text, edid, err, sizeof(err)), 1);
    assert_int_equal(edid[8], 0x40);
    assert_int_equal(edid[9], 0xf8);
    free(text);
}

static void expect_error(const char *text, const char *needle)
{
    err[0] = '\0';
    assert_int_equal(v4l2_edid_parse(text, edid, err, sizeof(err)), -1);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_rejects_bad_files(void **state)
{
    (void)state;
    expect_error("", "not a whole number");
    expect_error("00 ff ff", "not a whole number");
    expect_error("00 fg", "not part of a hex byte");
    expect_error("0", "lone hex digit");
    expect_error("00 f f", "lone hex digit");
    char *text = one_block_hex();
    /* a wrong checksum: change one byte */
    char *p = strstr(text, "40 F8");
    p[1] = '1';
    expect_error(text, "checksum");
    p[1] = '0';
    /* a wrong header */
    p = strstr(text, "00 FF");
    p[4] = 'E';
    expect_error(text, "header");
    free(text);
    /* two blocks where block 0 announces none */
    char *one = one_block_hex();
    char *two = malloc(strlen(one) * 2 + 1);
    strcpy(two, one);
    strcat(two, one);
    expect_error(two, "extension");
    free(one);
    free(two);
}

static void test_rejects_too_many_blocks(void **state)
{
    (void)state;
    size_t n = (V4L2_EDID_MAX_BLOCKS + 1) * V4L2_EDID_BLOCK;
    char *text = malloc(n * 2 + 1);
    memset(text, '0', n * 2);
    text[n * 2] = '\0';
    expect_error(text, "more than");
    free(text);
}

static void test_missing_file(void **state)
{
    (void)state;
    assert_int_equal(v4l2_edid_load("/nonexistent/piglix.hex", edid, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
}

/* Pixel clock in kHz and the active size of an 18-byte detailed timing. */
static unsigned dtd_khz(const uint8_t *d) { return (unsigned)(d[0] | d[1] << 8) * 10; }
static unsigned dtd_width(const uint8_t *d) { return d[2] | (d[4] >> 4) << 8; }
static unsigned dtd_height(const uint8_t *d) { return d[5] | (d[7] >> 4) << 8; }
static unsigned dtd_total(const uint8_t *d, int vertical)
{
    return vertical ? dtd_height(d) + (d[6] | (d[7] & 0xf) << 8) : dtd_width(d) + (d[3] | (d[4] & 0xf) << 8);
}

static void test_shipped_edid_fits_two_lanes(void **state)
{
    (void)state;
    int blocks = v4l2_edid_load(SHIPPED, edid, err, sizeof(err));
    if (blocks < 0)
        fail_msg("%s: %s", SHIPPED, err);
    assert_int_equal(blocks, 2);
    assert_int_equal(edid[128], 0x02); /* a CTA-861 extension */
    /* the preferred mode (first detailed timing): 1920x1080, 74.25 MHz, 30 Hz */
    const uint8_t *pref = edid + 54;
    assert_int_equal(dtd_width(pref), 1920);
    assert_int_equal(dtd_height(pref), 1080);
    assert_int_equal(dtd_khz(pref), 74250);
    double hz = dtd_khz(pref) * 1000.0 / (dtd_total(pref, 0) * (double)dtd_total(pref, 1));
    assert_true(hz > 29.9 && hz < 30.1);
    /* every detailed timing fits; the range limits cap the rest */
    for (int i = 0; i < 4; i++) {
        const uint8_t *d = edid + 54 + 18 * i;
        if (d[0] | d[1])
            assert_true((unsigned long)dtd_khz(d) * 16 <= LINK_KBPS);
        else if (d[3] == 0xfd)
            assert_true(d[9] * 10 * 16 * 1000 <= LINK_KBPS); /* max pixel clock in 10 MHz */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_with_comments_and_case),
        cmocka_unit_test(test_rejects_bad_files),
        cmocka_unit_test(test_rejects_too_many_blocks),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_shipped_edid_fits_two_lanes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

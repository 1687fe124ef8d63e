#include "sim_tools.h"

#include <linux/input-event-codes.h>
#include <string.h>

#include "common/font.h"
#include "sim_ui.h"

int sim_tool_layout(FILE *out)
{
    fprintf(out, "{\"width\": %d, \"height\": %d, \"cell\": [%d, %d], \"cols\": %d, \"rows\": %d,\n", SIM_W, SIM_H,
            SIM_CELL_W, SIM_CELL_H, SIM_COLS, SIM_ROWS);
    fprintf(out, " \"row\": {\"title\": %d, \"menu_head\": %d, \"menu\": %d, \"panel_head\": %d, \"panel\": %d, "
                 "\"text\": %d, \"pointer\": %d, \"status\": %d, \"help\": %d},\n",
            SIM_ROW_TITLE, SIM_ROW_MENU_HEAD, SIM_ROW_MENU, SIM_ROW_PANEL_HEAD, SIM_ROW_PANEL, SIM_ROW_TEXT,
            SIM_ROW_POINTER, SIM_ROW_STATUS, SIM_ROW_HELP);
    fprintf(out, " \"col\": {\"menu\": %d, \"panel\": %d, \"text\": %d}, \"menu_width\": %d, \"panel_width\": %d, "
                 "\"panel_rows\": %d, \"text_width\": %d,\n",
            SIM_COL_MENU, SIM_COL_PANEL, SIM_COL_TEXT, SIM_MENU_WIDTH, SIM_PANEL_WIDTH, SIM_PANEL_ROWS,
            SIM_TEXT_WIDTH);
    fprintf(out, " \"strip\": {\"y\": %d, \"cell\": %d, \"cells_per_row\": %d, \"rows\": %d, \"bytes\": %d},\n",
            SIM_MARK_Y, SIM_MARK_CELL, SIM_MARK_CELLS, SIM_MARK_ROWS, SIM_MARK_BYTES);
    fprintf(out, " \"flags\": {\"on\": %d, \"media\": %d, \"caps\": %d, \"kbd\": %d, \"abs\": %d, \"rel\": %d},\n",
            SIM_FLAG_ON, SIM_FLAG_MEDIA, SIM_FLAG_CAPS, SIM_FLAG_KBD, SIM_FLAG_ABS, SIM_FLAG_REL);
    fprintf(out, " \"colours\": {\"bg\": %d, \"fg\": %d, \"head\": %d, \"title_fg\": %d, \"title_bg\": %d, "
                 "\"sel_fg\": %d, \"sel_bg\": %d, \"field_fg\": %d, \"field_bg\": %d},\n",
            SIM_BG, SIM_FG, SIM_HEAD_FG, SIM_TITLE_FG, SIM_TITLE_BG, SIM_SEL_FG, SIM_SEL_BG, SIM_FIELD_FG,
            SIM_FIELD_BG);
    fprintf(out, " \"menu\": [");
    for (int i = 0; i < SIM_MENU_COUNT; i++)
        fprintf(out, "%s\"%s\"", i ? ", " : "", sim_menu_names[i]);
    fprintf(out, "]}\n");
    return 0;
}

int sim_tool_font(FILE *out)
{
    for (int c = 0x20; c < 0x7f; c++) {
        const uint8_t *g = font_glyph((char)c);
        fprintf(out, "%02x ", c);
        for (int y = 0; y < FONT_HEIGHT; y++)
            fprintf(out, "%02x", g[y]);
        fprintf(out, "\n");
    }
    return 0;
}

int sim_tool_iso(const char *path, FILE *out)
{
    struct sim_iso_listing l;
    if (sim_iso_read(path, &l) < 0) {
        fprintf(stderr, "simserver: %s\n", l.error);
        return 1;
    }
    fprintf(out, "volume %s\nentries %d\n", l.volume, l.total);
    for (int i = 0; i < l.count; i++)
        fprintf(out, "%s %s %llu %s\n", l.files[i].dir ? "dir" : "file", l.files[i].name,
                (unsigned long long)l.files[i].size, l.files[i].preview);
    return 0;
}

/* ---- self-test ---------------------------------------------------------------- */

static int failures;

static void expect(bool ok, const char *what, FILE *out)
{
    fprintf(out, "%s: %s\n", ok ? "ok" : "FAIL", what);
    failures += !ok;
}

#define SHIFT 1
#define ALTGR 2

/* Taps code with modifiers held; appends what the OS made of it. */
static void tap(const struct sim_keymap *km, struct sim_keystate *ks, unsigned code, int mods, uint32_t *got,
                int *n)
{
    uint32_t out[2];
    if (mods & SHIFT)
        sim_keymap_feed(km, ks, KEY_LEFTSHIFT, 1, out);
    if (mods & ALTGR)
        sim_keymap_feed(km, ks, KEY_RIGHTALT, 1, out);
    int k = sim_keymap_feed(km, ks, code, 1, out);
    for (int i = 0; i < k; i++)
        got[(*n)++] = out[i];
    sim_keymap_feed(km, ks, code, 0, out);
    if (mods & ALTGR)
        sim_keymap_feed(km, ks, KEY_RIGHTALT, 0, out);
    if (mods & SHIFT)
        sim_keymap_feed(km, ks, KEY_LEFTSHIFT, 0, out);
}

struct stroke {
    unsigned code;
    int mods;
};

static bool typed(const char *layout, const struct stroke *s, int ns, const uint32_t *want, int nwant)
{
    const struct sim_keymap *km = sim_keymap_find(layout);
    struct sim_keystate ks = {0};
    uint32_t got[64];
    int n = 0;
    for (int i = 0; i < ns; i++)
        tap(km, &ks, s[i].code, s[i].mods, got, &n);
    return n == nwant && memcmp(got, want, sizeof(got[0]) * (size_t)n) == 0;
}

static void keymaps(FILE *out)
{
    static const struct stroke de[] = {
        {KEY_Y, SHIFT}, {KEY_Z, 0}, {KEY_Q, ALTGR}, {KEY_7, ALTGR}, {KEY_GRAVE, 0}, {KEY_SPACE, 0},
        {KEY_GRAVE, 0}, {KEY_A, 0}, {KEY_EQUAL, SHIFT}, {KEY_SPACE, 0}, {KEY_APOSTROPHE, 0},
        {KEY_102ND, ALTGR}, {KEY_E, ALTGR}, {KEY_GRAVE, 0}, {KEY_X, 0}, {KEY_MINUS, 0}, {KEY_3, SHIFT},
        {KEY_EQUAL, 0}, {KEY_E, SHIFT}, {KEY_BACKSLASH, SHIFT},
    };
    static const uint32_t de_want[] = {'Z', 'y', '@', '{', '^', 0xe2, '`', 0xe4, '|', 0x20ac, '^', 'x',
                                       0xdf, 0xa7, 0xc9, '\''};
    expect(typed("de", de, sizeof(de) / sizeof(de[0]), de_want, sizeof(de_want) / sizeof(de_want[0])),
           "de: QWERTZ, Shift, AltGr, dead keys with Space and letters", out);
    static const struct stroke us[] = {{KEY_2, SHIFT}, {KEY_GRAVE, 0}, {KEY_Y, 0}, {KEY_102ND, SHIFT}};
    static const uint32_t us_want[] = {'@', '`', 'y', '>'};
    expect(typed("us", us, 4, us_want, 4), "us: Shift+2 is @, no dead keys, QWERTY", out);
    const struct sim_keymap *km = sim_keymap_find("de");
    struct sim_keystate ks = {0};
    uint32_t got[8];
    int n = 0;
    tap(km, &ks, KEY_CAPSLOCK, 0, got, &n);
    tap(km, &ks, KEY_A, 0, got, &n);
    tap(km, &ks, KEY_A, SHIFT, got, &n);
    tap(km, &ks, KEY_1, 0, got, &n);
    expect(n == 3 && got[0] == 'A' && got[1] == 'a' && got[2] == '1', "Caps Lock shifts letters only", out);
    expect(!sim_keymap_find("xx"), "an unknown layout is refused", out);
}

static void strip_and_screen(FILE *out)
{
    static struct sim_canvas cv;
    static struct sim_ui ui;
    expect(sim_crc32(0, (const uint8_t *)"123456789", 9) == 0xcbf43926u, "CRC-32 check value", out);
    if (sim_canvas_init(&cv, SIM_W, SIM_H) < 0) {
        expect(false, "canvas", out);
        return;
    }
    sim_ui_init(&ui, &cv, sim_keymap_find("de"));
    const char *t = "123456789";
    for (int i = 0; t[i]; i++)
        ui.text[ui.text_len++] = (uint32_t)t[i];
    uint8_t b[SIM_MARK_BYTES];
    sim_strip_bytes(&ui, b);
    unsigned sum = 0;
    for (int i = 0; i < 28; i++)
        sum += b[i];
    expect(b[0] == 0xa5 && b[1] == 0x5a && b[8] == 0 && b[9] == 9 && b[11] == '9' && b[12] == 0xcb &&
               b[15] == 0x26 && b[16] == 0xff && (unsigned)(b[28] << 8 | b[29]) == (sum & 0xffff),
           "state strip fields and checksum", out);
    sim_ui_render(&ui);
    const uint8_t *title = cv.rgb + 2 * cv.stride + 600 * 3;
    const uint8_t *strip0 = cv.rgb + (size_t)SIM_MARK_Y * cv.stride; /* bit 7 of 0xa5: white */
    const uint8_t *strip1 = cv.rgb + (size_t)SIM_MARK_Y * cv.stride + SIM_MARK_CELL * 3; /* bit 6: black */
    expect(title[0] == 0x00 && title[1] == 0xaa && title[2] == 0xaa && strip0[0] == 0xff && strip1[0] == 0,
           "the title bar and the strip are drawn", out);
    sim_canvas_free(&cv);
}

int sim_tool_selftest(FILE *out)
{
    keymaps(out);
    strip_and_screen(out);
    fprintf(out, "%s\n", failures ? "FAILED" : "PASS");
    return failures ? 1 : 0;
}

/* The "bios" scenario: a text-mode firmware setup screen. Static except for
 * the clock (changes once per second) and a blinking cursor (0.5 s on, 0.5 s
 * off), with time = n / fps from 00:00:00. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/testsrc_scene.h"
#include "common/font.h"

/* A PC text-mode palette. */
#define BIOS_BLUE 0x0000aa
#define BIOS_GREY 0xaaaaaa
#define BIOS_WHITE 0xffffff
#define BIOS_CYAN 0x00aaaa
#define BIOS_BLACK 0x000000
#define BIOS_YELLOW 0xffff55

#define BIOS_CLOCK_ROW 16
#define BIOS_LABEL_COL 2
#define BIOS_VALUE_COL 28

struct bios_scene {
    unsigned fps;
    int scale, cell_w, cell_h;
    int cols, rows;
    int origin_x, origin_y; /* top-left pixel of the text grid */
    int split_col;          /* the line between the menu and the help panel */
    int clock_col;          /* first digit of HH:MM:SS */
    char source_text[64];
};

enum bios_entry_kind { BIOS_HEADING, BIOS_FIELD, BIOS_SOURCE_FIELD, BIOS_SELECTED_FIELD };

struct bios_entry {
    int row;
    enum bios_entry_kind kind;
    const char *label, *value;
};

static const struct bios_entry bios_entries[] = {
    {3, BIOS_HEADING, "BIOS Information", NULL},
    {4, BIOS_FIELD, "BIOS Vendor", "piglix"},
    {5, BIOS_FIELD, "Core Version", "0.1.0"},
    {6, BIOS_SOURCE_FIELD, "Platform", NULL},
    {7, BIOS_FIELD, "Build Date and Time", "01/01/2024 00:00:00"},
    {9, BIOS_HEADING, "Memory Information", NULL},
    {10, BIOS_FIELD, "Total Memory", "8192 MB"},
    {11, BIOS_FIELD, "Memory Frequency", "3200 MHz"},
    {13, BIOS_FIELD, "System Language", "[English]"},
    {15, BIOS_FIELD, "System Date", "[Mon 01/01/2024]"},
    /* The digits are drawn by bios_draw_clock. */
    {BIOS_CLOCK_ROW, BIOS_SELECTED_FIELD, "System Time", "[        ]"},
    {18, BIOS_FIELD, "Access Level", "Administrator"},
    {20, BIOS_FIELD, "Boot Mode", "[UEFI]"},
    {21, BIOS_FIELD, "Secure Boot", "[Disabled]"},
    {22, BIOS_FIELD, "Quiet Boot", "[Enabled]"},
};

static const char *const bios_help[] = {
    "Set the system time.",
    "",
    "Use [Enter], [Tab] or",
    "[Shift-Tab] to select",
    "a field. Use [+] or [-]",
    "to change the value.",
};

static const char *const bios_keys[] = {
    "<>: Select Screen",
    "^v: Select Item",
    "Enter: Select",
    "+/-: Change Opt.",
    "F1: General Help",
    "F2: Previous Values",
    "F9: Optimized Defaults",
    "F10: Save & Exit",
    "ESC: Exit",
};

static const char *const bios_tabs[] = {"Main", "Advanced", "Chipset", "Boot", "Security",
                                        "Save & Exit"};

static void *bios_create(unsigned width, unsigned height, unsigned fps)
{
    struct bios_scene *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->fps = fps;
    /* The largest integer scale that still fits an 80x25 screen. */
    unsigned sx = width / 640, sy = height / 400;
    s->scale = (int)(sx < sy ? sx : sy);
    if (s->scale < 1)
        s->scale = 1;
    s->cell_w = FONT_WIDTH * s->scale;
    s->cell_h = FONT_HEIGHT * s->scale;
    s->cols = (int)width / s->cell_w;
    s->rows = (int)height / s->cell_h;
    s->origin_x = ((int)width - s->cols * s->cell_w) / 2;
    s->origin_y = ((int)height - s->rows * s->cell_h) / 2;
    s->split_col = s->cols * 2 / 3;
    s->clock_col = BIOS_VALUE_COL + 1;
    snprintf(s->source_text, sizeof(s->source_text), "piglix test source %ux%u", width, height);
    return s;
}

static void bios_destroy(void *scene) { free(scene); }

static struct testsrc_rect bios_cells(const struct bios_scene *s, int col, int row, int n_cols,
                                      int n_rows)
{
    return testsrc_rect_make(s->origin_x + col * s->cell_w, s->origin_y + row * s->cell_h,
                             n_cols * s->cell_w, n_rows * s->cell_h);
}

/* Inside the panel frame: rows 3 .. rows-4, columns 1 .. split_col-1. */
static struct testsrc_rect bios_menu_rect(const struct bios_scene *s)
{
    return bios_cells(s, 1, 3, s->split_col - 1, s->rows - 6);
}

static void bios_put(const struct bios_scene *s, const struct testsrc_canvas *c, int col, int row,
                     const char *text, uint32_t fg, uint32_t bg)
{
    testsrc_canvas_text(c, s->origin_x + col * s->cell_w, s->origin_y + row * s->cell_h, text, fg,
                        bg, (unsigned)s->scale);
}

static void bios_put_centered(const struct bios_scene *s, const struct testsrc_canvas *c, int row,
                              const char *text, uint32_t fg, uint32_t bg)
{
    bios_put(s, c, (s->cols - (int)strlen(text)) / 2, row, text, fg, bg);
}

/* Box lines run through the middle of their cells, as box-drawing
 * characters would. */
static void bios_hline(const struct bios_scene *s, const struct testsrc_canvas *c, int col0,
                       int col1, int row)
{
    struct testsrc_rect a = bios_cells(s, col0, row, 1, 1), b = bios_cells(s, col1, row, 1, 1);
    testsrc_canvas_fill(c,
                        testsrc_rect_make(a.x + s->cell_w / 2, a.y + s->cell_h / 2,
                                          b.x - a.x + s->scale, s->scale),
                        BIOS_GREY);
}

static void bios_vline(const struct bios_scene *s, const struct testsrc_canvas *c, int col,
                       int row0, int row1)
{
    struct testsrc_rect a = bios_cells(s, col, row0, 1, 1), b = bios_cells(s, col, row1, 1, 1);
    testsrc_canvas_fill(c,
                        testsrc_rect_make(a.x + s->cell_w / 2, a.y + s->cell_h / 2, s->scale,
                                          b.y - a.y + s->scale),
                        BIOS_GREY);
}

static void bios_draw_bars(const struct bios_scene *s, const struct testsrc_canvas *c)
{
    bios_put_centered(s, c, 0, "piglix Setup Utility - Copyright (C) piglix contributors",
                      BIOS_WHITE, BIOS_BLUE);
    testsrc_canvas_fill(c, bios_cells(s, 0, 1, s->cols, 1), BIOS_CYAN);
    int col = 2;
    for (size_t i = 0; i < sizeof(bios_tabs) / sizeof(bios_tabs[0]); i++) {
        char tab[32];
        snprintf(tab, sizeof(tab), " %s ", bios_tabs[i]);
        bool selected = i == 0;
        bios_put(s, c, col, 1, tab, selected ? BIOS_WHITE : BIOS_BLACK,
                 selected ? BIOS_BLUE : BIOS_CYAN);
        col += (int)strlen(tab) + 1;
    }
    testsrc_canvas_fill(c, bios_cells(s, 0, s->rows - 2, s->cols, 1), BIOS_GREY);
    bios_put(s, c, 1, s->rows - 2,
             "F1 Help  ESC Exit  ^v Select Item  <> Select Menu  +/- Change Values  "
             "F9 Setup Defaults  F10 Save and Exit",
             BIOS_BLACK, BIOS_GREY);
    char version[128];
    snprintf(version, sizeof(version), "Version 0.1.0. Copyright (C) piglix contributors. %s",
             s->source_text);
    bios_put_centered(s, c, s->rows - 1, version, BIOS_GREY, BIOS_BLUE);
}

static void bios_draw_panels(const struct bios_scene *s, const struct testsrc_canvas *c)
{
    int top = 2, bottom = s->rows - 3, right = s->cols - 1;
    bios_hline(s, c, 0, right, top);
    bios_hline(s, c, 0, right, bottom);
    bios_vline(s, c, 0, top, bottom);
    bios_vline(s, c, right, top, bottom);
    bios_vline(s, c, s->split_col, top, bottom);

    /* Text stays inside its panel, as it would on a real setup screen. */
    struct testsrc_canvas menu = testsrc_canvas_clipped(c, bios_menu_rect(s));
    for (size_t i = 0; i < sizeof(bios_entries) / sizeof(bios_entries[0]); i++) {
        const struct bios_entry *e = &bios_entries[i];
        uint32_t fg = e->kind == BIOS_HEADING          ? BIOS_YELLOW
                      : e->kind == BIOS_SELECTED_FIELD ? BIOS_WHITE
                                                       : BIOS_GREY;
        bios_put(s, &menu, BIOS_LABEL_COL, e->row, e->label, fg, FONT_BG_NONE);
        const char *value = e->kind == BIOS_SOURCE_FIELD ? s->source_text : e->value;
        if (value)
            bios_put(s, &menu, BIOS_VALUE_COL, e->row, value, fg, FONT_BG_NONE);
    }

    int help_col = s->split_col + 2;
    struct testsrc_canvas help = testsrc_canvas_clipped(
        c, bios_cells(s, s->split_col + 1, top + 1, right - s->split_col - 1, bottom - top - 1));
    int row = top + 1;
    for (size_t i = 0; i < sizeof(bios_help) / sizeof(bios_help[0]); i++)
        bios_put(s, &help, help_col, row++, bios_help[i], BIOS_GREY, FONT_BG_NONE);
    row++;
    bios_hline(s, c, s->split_col, right, row++);
    for (size_t i = 0; i < sizeof(bios_keys) / sizeof(bios_keys[0]); i++)
        bios_put(s, &help, help_col, row++, bios_keys[i], BIOS_GREY, FONT_BG_NONE);
}

static bool bios_cursor_on(const struct bios_scene *s, uint64_t n)
{
    return (2 * n / s->fps) % 2 == 0;
}

static struct testsrc_rect bios_clock_rect(const struct bios_scene *s)
{
    return bios_cells(s, s->clock_col, BIOS_CLOCK_ROW, 8, 1);
}

static struct testsrc_rect bios_cursor_rect(const struct bios_scene *s)
{
    return bios_cells(s, s->clock_col, BIOS_CLOCK_ROW, 1, 1);
}

static void bios_draw_clock(const struct bios_scene *s, const struct testsrc_canvas *c, uint64_t n)
{
    uint64_t secs = n / s->fps;
    char text[16];
    snprintf(text, sizeof(text), "%02u:%02u:%02u", (unsigned)(secs / 3600 % 24),
             (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
    /* The clock lies inside the menu panel; it is clipped like the rest of it. */
    struct testsrc_canvas menu = testsrc_canvas_clipped(c, bios_menu_rect(s));
    bios_put(s, &menu, s->clock_col, BIOS_CLOCK_ROW, text, BIOS_WHITE, BIOS_BLUE);
    if (bios_cursor_on(s, n)) {
        /* A text-mode underline cursor: font rows 13-14 of the cell. */
        struct testsrc_rect cell = bios_cursor_rect(s);
        testsrc_canvas_fill(&menu,
                            testsrc_rect_make(cell.x, cell.y + 13 * s->scale, cell.w, 2 * s->scale),
                            BIOS_WHITE);
    }
}

static void bios_draw(void *scene, const struct testsrc_canvas *c, uint64_t n)
{
    const struct bios_scene *s = scene;
    testsrc_canvas_fill(c, c->clip, BIOS_BLUE);
    bios_draw_bars(s, c);
    bios_draw_panels(s, c);
    bios_draw_clock(s, c, n);
}

static int bios_changed(void *scene, uint64_t a, uint64_t b, struct testsrc_rect *rects)
{
    const struct bios_scene *s = scene;
    if (a / s->fps != b / s->fps) {
        rects[0] = bios_clock_rect(s); /* holds the cursor too */
        return 1;
    }
    if (bios_cursor_on(s, a) != bios_cursor_on(s, b)) {
        rects[0] = bios_cursor_rect(s);
        return 1;
    }
    return 0;
}

const struct testsrc_scene_ops testsrc_scene_bios = {
    .name = "bios",
    .create = bios_create,
    .destroy = bios_destroy,
    .draw = bios_draw,
    .changed = bios_changed,
};

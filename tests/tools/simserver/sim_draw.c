/* Drawing the setup screen: whole rows of cells (padded, so nothing stale
 * stays), the state strip, and the pointer sprite over everything but the
 * strip. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim_ui.h"

/* One panel line, cut to the panel's width (on purpose: names can be long). */
__attribute__((format(printf, 2, 3))) static void linef(char *dst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, SIM_PANEL_WIDTH + 1, fmt, ap);
    va_end(ap);
}

static const char *const sprite[SIM_SPRITE_H] = {
    "X.......", "XX......", "XWX.....", "XWWX....", "XWWWX...", "XWWWWX..",
    "XWWWWWX.", "XWWWWWWX", "XWWWXXXX", "XWXWX...", "XX.XWX..", "X...XX..",
};

/* text at (col, row), padded with spaces or cut to width cells */
static void cells(struct sim_ui *ui, int row, int col, int width, const char *text, uint32_t fg, uint32_t bg)
{
    char line[SIM_COLS + 1];
    snprintf(line, sizeof(line), "%-*.*s", width, width, text);
    sim_canvas_text(ui->cv, col, row, line, fg, bg);
}

static void draw_title(struct sim_ui *ui)
{
    cells(ui, SIM_ROW_TITLE, 0, SIM_COLS, " piglix test server - firmware setup utility", SIM_TITLE_FG,
          SIM_TITLE_BG);
    cells(ui, SIM_ROW_MENU_HEAD, SIM_COL_MENU, SIM_MENU_WIDTH, "Main Menu", SIM_HEAD_FG, SIM_BG);
    cells(ui, SIM_ROW_HELP, 1, SIM_COLS - 2, "Up/Down: move  Enter: select  Backspace: delete  Esc: clear text",
          SIM_FG, SIM_BG);
    cells(ui, SIM_ROW_TEXT, 1, SIM_COL_TEXT - 1, "Text:", SIM_FG, SIM_BG);
}

static void draw_menu(struct sim_ui *ui)
{
    for (int i = 0; i < SIM_MENU_COUNT; i++) {
        char line[SIM_MENU_WIDTH + 1];
        snprintf(line, sizeof(line), "%c %s", i == ui->activated ? '>' : ' ', sim_menu_names[i]);
        bool sel = i == ui->menu;
        cells(ui, SIM_ROW_MENU + i, SIM_COL_MENU, SIM_MENU_WIDTH, line, sel ? SIM_SEL_FG : SIM_FG,
              sel ? SIM_SEL_BG : SIM_BG);
    }
}

static int boot_lines(const struct sim_ui *ui, char lines[][SIM_PANEL_WIDTH + 1], int max)
{
    const struct sim_iso_listing *m = &ui->media;
    int n = 0;
    if (ui->boot_requested) {
        linef(lines[n++], "Reading the USB CD...");
        return n;
    }
    if (!ui->media_valid) {
        linef(lines[n++], "No bootable medium.");
        linef(lines[n++], "%s", m->error);
        return n;
    }
    linef(lines[n++], "Device %s, volume %s", m->device, m->volume);
    linef(lines[n++], "%d entries:", m->total);
    for (int i = 0; i < m->count && n < max; i++) {
        const struct sim_iso_file *f = &m->files[i];
        char size[16];
        if (f->dir)
            snprintf(size, sizeof(size), "<DIR>");
        else
            snprintf(size, sizeof(size), "%llu", (unsigned long long)f->size);
        linef(lines[n++], "%-18.18s %9s  %.18s", f->name, size, f->preview);
    }
    return n;
}

static void draw_panel(struct sim_ui *ui)
{
    char lines[SIM_PANEL_ROWS][SIM_PANEL_WIDTH + 1];
    memset(lines, 0, sizeof(lines));
    int n = 0;
    const char *head = ui->activated < 0 ? "Welcome" : sim_menu_names[ui->activated];
    switch (ui->activated) {
    case SIM_MENU_INFO:
        linef(lines[n++], "Board:    piglix simulated server");
        linef(lines[n++], "Video:    %s", ui->video);
        linef(lines[n++], "Keyboard: layout %s, USB %s", sim_keymap_name(ui->km),
                 ui->devices[SIM_KBD] ? "yes" : "no");
        linef(lines[n++], "Mouse:    absolute %s, relative %s",
                 ui->devices[SIM_ABS] ? "yes" : "no", ui->devices[SIM_REL] ? "yes" : "no");
        break;
    case SIM_MENU_KEYBOARD:
        linef(lines[n++], "Type: the Text line below echoes each");
        linef(lines[n++], "character. Backspace deletes, Esc clears.");
        linef(lines[n++], "Keyboard layout: %s", sim_keymap_name(ui->km));
        break;
    case SIM_MENU_POINTER:
        linef(lines[n++], "Move the mouse or click anywhere.");
        if (ui->click_x >= 0)
            linef(lines[n++], "Last click: %d,%d %s", ui->click_x, ui->click_y,
                     ui->click_buttons == 1 ? "left" : ui->click_buttons == 2 ? "middle" : "right");
        else
            linef(lines[n++], "No click yet.");
        break;
    case SIM_MENU_BOOT:
        n = boot_lines(ui, lines, SIM_PANEL_ROWS);
        break;
    default:
        linef(lines[n++], "Use Up/Down and Enter, or click an entry.");
        linef(lines[n++], "Type anything: the Text line echoes it.");
        break;
    }
    cells(ui, SIM_ROW_PANEL_HEAD, SIM_COL_PANEL, SIM_PANEL_WIDTH, head, SIM_HEAD_FG, SIM_BG);
    for (int i = 0; i < SIM_PANEL_ROWS; i++)
        cells(ui, SIM_ROW_PANEL + i, SIM_COL_PANEL, SIM_PANEL_WIDTH, i < n ? lines[i] : "", SIM_FG, SIM_BG);
}

static void draw_text(struct sim_ui *ui)
{
    /* the last characters, then the cursor (a solid cell) */
    char field[SIM_TEXT_WIDTH + 1];
    unsigned shown = ui->text_len < SIM_TEXT_WIDTH - 1 ? ui->text_len : SIM_TEXT_WIDTH - 1;
    unsigned first = ui->text_len - shown;
    for (unsigned i = 0; i < shown; i++) {
        uint32_t c = ui->text[first + i];
        field[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    field[shown] = 0;
    cells(ui, SIM_ROW_TEXT, SIM_COL_TEXT, SIM_TEXT_WIDTH, field, SIM_FIELD_FG, SIM_FIELD_BG);
    sim_canvas_fill(ui->cv, (SIM_COL_TEXT + (int)shown) * SIM_CELL_W, SIM_ROW_TEXT * SIM_CELL_H, SIM_CELL_W,
                    SIM_CELL_H, SIM_FIELD_FG);
}

static void draw_pointer(struct sim_ui *ui)
{
    char line[128];
    if (ui->px < 0)
        snprintf(line, sizeof(line), "Pointer: no events yet");
    else
        snprintf(line, sizeof(line), "Pointer: abs %d,%d  pixel %d,%d  buttons L%c M%c R%c  wheel %+d",
                 ui->abs_x < 0 ? 0 : ui->abs_x, ui->abs_y < 0 ? 0 : ui->abs_y, ui->px, ui->py,
                 ui->buttons & 1 ? '*' : '-', ui->buttons & 2 ? '*' : '-', ui->buttons & 4 ? '*' : '-', ui->wheel);
    cells(ui, SIM_ROW_POINTER, 1, SIM_COLS - 2, line, SIM_FG, SIM_BG);
}

static void draw_status(struct sim_ui *ui)
{
    char line[SIM_COLS + 16];
    snprintf(line, sizeof(line), "Status: %s", ui->status);
    cells(ui, SIM_ROW_STATUS, 1, SIM_COLS - 2, line, SIM_FG, SIM_BG);
}

void sim_strip_bytes(const struct sim_ui *ui, uint8_t b[SIM_MARK_BYTES])
{
    char utf8[SIM_TEXT_MAX * 3 + 1];
    unsigned n = sim_ui_text_utf8(ui, utf8, sizeof(utf8));
    uint32_t crc = sim_crc32(0, (const uint8_t *)utf8, n);
    uint32_t last = ui->text_len ? ui->text[ui->text_len - 1] : 0;
    unsigned px = ui->px < 0 ? 0xffff : (unsigned)ui->px, py = ui->py < 0 ? 0xffff : (unsigned)ui->py;
    memset(b, 0, SIM_MARK_BYTES);
    b[0] = 0xa5, b[1] = 0x5a, b[2] = 1;
    b[3] = (uint8_t)(SIM_FLAG_ON | (ui->media_valid ? SIM_FLAG_MEDIA : 0) | (ui->ks.caps ? SIM_FLAG_CAPS : 0) |
                     (ui->devices[SIM_KBD] ? SIM_FLAG_KBD : 0) | (ui->devices[SIM_ABS] ? SIM_FLAG_ABS : 0) |
                     (ui->devices[SIM_REL] ? SIM_FLAG_REL : 0));
    b[4] = (uint8_t)(ui->seq >> 8), b[5] = (uint8_t)ui->seq;
    b[6] = (uint8_t)ui->menu;
    b[7] = ui->activated < 0 ? 255 : (uint8_t)ui->activated;
    b[8] = (uint8_t)(ui->text_len >> 8), b[9] = (uint8_t)ui->text_len;
    b[10] = (uint8_t)(last >> 8), b[11] = (uint8_t)last;
    for (int i = 0; i < 4; i++)
        b[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
    b[16] = (uint8_t)(px >> 8), b[17] = (uint8_t)px, b[18] = (uint8_t)(py >> 8), b[19] = (uint8_t)py;
    b[20] = (uint8_t)ui->buttons;
    b[21] = (uint8_t)(int8_t)(ui->wheel < -128 ? -128 : ui->wheel > 127 ? 127 : ui->wheel);
    b[22] = ui->media_valid ? (uint8_t)ui->media.total : 0;
    unsigned sum = 0;
    for (int i = 0; i < 28; i++)
        sum += b[i];
    b[28] = (uint8_t)(sum >> 8), b[29] = (uint8_t)sum;
}

static void draw_strip(struct sim_ui *ui)
{
    uint8_t b[SIM_MARK_BYTES];
    sim_strip_bytes(ui, b);
    for (int i = 0; i < SIM_MARK_BYTES * 8; i++) {
        bool one = (b[i / 8] >> (7 - i % 8)) & 1;
        sim_canvas_fill(ui->cv, (i % SIM_MARK_CELLS) * SIM_MARK_CELL, SIM_MARK_Y + (i / SIM_MARK_CELLS) * SIM_MARK_CELL,
                        SIM_MARK_CELL, SIM_MARK_CELL, one ? 0xffffff : 0x000000);
    }
}

/* The sprite's pixels that lie on the canvas and above the strip. */
#define SPRITE_FOR_EACH(ui, x, y, X, Y)                                                         \
    for (int y = 0, Y = (ui)->sprite_y; y < SIM_SPRITE_H; y++, Y++)                             \
        for (int x = 0, X = (ui)->sprite_x; x < SIM_SPRITE_W; x++, X++)                         \
            if (X < (int)(ui)->cv->w && Y < SIM_MARK_Y)

static void sprite_hide(struct sim_ui *ui)
{
    if (!ui->sprite_shown)
        return;
    SPRITE_FOR_EACH(ui, x, y, X, Y)
        memcpy(ui->cv->rgb + (size_t)Y * ui->cv->stride + (size_t)X * 3, ui->sprite_under[y][x], 3);
    sim_canvas_mark(ui->cv, ui->sprite_y, SIM_SPRITE_H);
    ui->sprite_shown = false;
}

static void sprite_show(struct sim_ui *ui)
{
    if (ui->px < 0)
        return;
    ui->sprite_x = ui->px, ui->sprite_y = ui->py;
    SPRITE_FOR_EACH(ui, x, y, X, Y) {
        uint8_t *p = ui->cv->rgb + (size_t)Y * ui->cv->stride + (size_t)X * 3;
        memcpy(ui->sprite_under[y][x], p, 3);
        char s = sprite[y][x];
        if (s != '.')
            memset(p, s == 'W' ? 0xff : 0x00, 3);
    }
    sim_canvas_mark(ui->cv, ui->sprite_y, SIM_SPRITE_H);
    ui->sprite_shown = true;
}

void sim_ui_render(struct sim_ui *ui)
{
    unsigned d = ui->dirty;
    if (!d)
        return;
    if (d & SIM_DRAW_ALL) {
        ui->sprite_shown = false;
        sim_canvas_fill(ui->cv, 0, 0, (int)ui->cv->w, (int)ui->cv->h, SIM_BG);
        draw_title(ui);
        d = ~0u;
    } else {
        sprite_hide(ui);
    }
    if (d & SIM_DRAW_MENU)
        draw_menu(ui);
    if (d & SIM_DRAW_PANEL)
        draw_panel(ui);
    if (d & SIM_DRAW_TEXT)
        draw_text(ui);
    if (d & SIM_DRAW_POINTER)
        draw_pointer(ui);
    if (d & SIM_DRAW_STATUS)
        draw_status(ui);
    ui->seq++;
    draw_strip(ui);
    sprite_show(ui);
    ui->dirty = 0;
}

/* How the setup screen reacts to keys and the pointer. */
#include "sim_ui.h"

#include <linux/input-event-codes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const sim_menu_names[SIM_MENU_COUNT] = {
    "System Information", "Keyboard Test", "Pointer Test", "Boot from USB CD",
};

/* The status line, cut to the screen's width. */
__attribute__((format(printf, 2, 3))) static void status(struct sim_ui *ui, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ui->status, sizeof(ui->status), fmt, ap);
    va_end(ap);
    ui->dirty |= SIM_DRAW_STATUS;
}

void sim_ui_init(struct sim_ui *ui, struct sim_canvas *cv, const struct sim_keymap *km)
{
    memset(ui, 0, sizeof(*ui));
    ui->cv = cv;
    ui->km = km;
    sim_ui_reset(ui);
}

void sim_ui_reset(struct sim_ui *ui)
{
    bool devices[SIM_ROLES];
    memcpy(devices, ui->devices, sizeof(devices));
    bool caps = ui->ks.caps; /* the keyboard's lock state outlives the server's power */
    memset(&ui->ks, 0, sizeof(ui->ks));
    ui->ks.caps = caps;
    ui->menu = 0;
    ui->activated = -1;
    ui->text_len = 0;
    ui->abs_x = ui->abs_y = ui->px = ui->py = -1;
    ui->buttons = ui->pressed = ui->released = 0;
    ui->wheel = 0;
    ui->click_x = ui->click_y = -1;
    ui->click_buttons = 0;
    status(ui, "Ready.");
    ui->boot_requested = false;
    ui->media_valid = false;
    memset(&ui->media, 0, sizeof(ui->media));
    ui->sprite_shown = false; /* the whole screen is redrawn under it */
    memcpy(ui->devices, devices, sizeof(devices));
    ui->dirty = SIM_DRAW_ALL;
}

void sim_ui_devices(struct sim_ui *ui, const bool present[SIM_ROLES])
{
    if (memcmp(ui->devices, present, sizeof(ui->devices)) == 0)
        return;
    memcpy(ui->devices, present, sizeof(ui->devices));
    ui->dirty |= SIM_DRAW_STRIP | (ui->activated == SIM_MENU_INFO ? SIM_DRAW_PANEL : 0);
}

void sim_ui_set_video(struct sim_ui *ui, const char *desc)
{
    if (strcmp(ui->video, desc) == 0)
        return;
    snprintf(ui->video, sizeof(ui->video), "%s", desc);
    if (ui->activated == SIM_MENU_INFO)
        ui->dirty |= SIM_DRAW_PANEL;
}

static void activate(struct sim_ui *ui, int entry)
{
    ui->menu = entry;
    ui->activated = entry;
    status(ui, "Selected: %s", sim_menu_names[entry]);
    if (entry == SIM_MENU_BOOT) {
        ui->boot_requested = true;
        ui->media_valid = false;
        status(ui, "Booting from USB CD...");
    }
    ui->dirty |= SIM_DRAW_MENU | SIM_DRAW_PANEL | SIM_DRAW_STATUS;
}

void sim_ui_set_media(struct sim_ui *ui, const struct sim_iso_listing *l, bool ok)
{
    ui->media = *l;
    ui->media_valid = ok;
    if (ok)
        status(ui, "USB CD %s: %d entries", l->device, l->total);
    else
        status(ui, "No bootable medium");
    ui->dirty |= SIM_DRAW_PANEL | SIM_DRAW_STATUS;
}

static void type_char(struct sim_ui *ui, uint32_t c)
{
    if (ui->text_len >= SIM_TEXT_MAX) {
        status(ui, "Text full (%d characters): Esc clears it", SIM_TEXT_MAX);
        ui->dirty |= SIM_DRAW_STATUS;
        return;
    }
    ui->text[ui->text_len++] = c;
    ui->dirty |= SIM_DRAW_TEXT;
}

static void key(struct sim_ui *ui, unsigned code, int value)
{
    /* No typematic repeat: under TCG a release can reach the host late
     * enough for the kernel's autorepeat to fire, and a test must not see
     * characters nobody typed. */
    if (value == 2)
        return;
    bool press = value == 1;
    uint32_t out[2];
    int n = sim_keymap_feed(ui->km, &ui->ks, code, value, out);
    if (code == KEY_CAPSLOCK && press)
        ui->dirty |= SIM_DRAW_STRIP;
    if (!press)
        return;
    switch (code) {
    case KEY_UP:
        ui->menu = (ui->menu + SIM_MENU_COUNT - 1) % SIM_MENU_COUNT;
        ui->dirty |= SIM_DRAW_MENU;
        return;
    case KEY_DOWN:
        ui->menu = (ui->menu + 1) % SIM_MENU_COUNT;
        ui->dirty |= SIM_DRAW_MENU;
        return;
    case KEY_ENTER:
    case KEY_KPENTER:
        if (press)
            activate(ui, ui->menu);
        return;
    case KEY_BACKSPACE:
        if (ui->text_len > 0) {
            ui->text_len--;
            ui->dirty |= SIM_DRAW_TEXT;
        }
        return;
    case KEY_ESC:
        ui->text_len = 0;
        ui->dirty |= SIM_DRAW_TEXT;
        return;
    }
    for (int i = 0; i < n; i++)
        type_char(ui, out[i]);
}

static void pointer_to(struct sim_ui *ui, int x, int y)
{
    ui->px = x < 0 ? 0 : x >= SIM_W ? SIM_W - 1 : x;
    ui->py = y < 0 ? 0 : y >= SIM_H ? SIM_H - 1 : y;
    ui->dirty |= SIM_DRAW_POINTER;
}

static unsigned button_bit(unsigned code)
{
    return code == BTN_LEFT ? 1 : code == BTN_MIDDLE ? 2 : code == BTN_RIGHT ? 4 : 0;
}

static void button(struct sim_ui *ui, unsigned bit, bool down)
{
    if (down)
        ui->buttons |= bit;
    else
        ui->buttons &= ~bit;
    ui->dirty |= SIM_DRAW_POINTER;
    if (!down || ui->px < 0)
        return;
    ui->click_x = ui->px;
    ui->click_y = ui->py;
    ui->click_buttons = bit;
    if (ui->activated == SIM_MENU_POINTER)
        ui->dirty |= SIM_DRAW_PANEL;
    /* A left click on a menu entry chooses it, as Enter does. */
    int row = ui->py / SIM_CELL_H, col = ui->px / SIM_CELL_W;
    if (bit == 1 && row >= SIM_ROW_MENU && row < SIM_ROW_MENU + SIM_MENU_COUNT && col >= SIM_COL_MENU &&
        col < SIM_COL_MENU + SIM_MENU_WIDTH)
        activate(ui, row - SIM_ROW_MENU);
}

/* A mouse report's buttons count where the report puts the pointer (the
 * kernel sends them before the axes), so they wait for its end. */
static void mouse_report_end(struct sim_ui *ui)
{
    for (unsigned bit = 1; bit <= 4; bit <<= 1) {
        if (ui->pressed & bit)
            button(ui, bit, true);
        if (ui->released & bit)
            button(ui, bit, false);
    }
    ui->pressed = ui->released = 0;
}

void sim_ui_event(struct sim_ui *ui, const struct sim_event *ev)
{
    if (ev->type == EV_SYN) {
        if (ev->role != SIM_KBD)
            mouse_report_end(ui);
    } else if (ev->type == EV_KEY && button_bit(ev->code)) {
        if (ev->value)
            ui->pressed |= button_bit(ev->code);
        else
            ui->released |= button_bit(ev->code);
    } else if (ev->type == EV_KEY && ev->role == SIM_KBD) {
        key(ui, ev->code, ev->value);
    } else if (ev->type == EV_ABS && (ev->code == ABS_X || ev->code == ABS_Y)) {
        /* the absolute mouse's 0..32767 spans the screen's pixels */
        int v = ev->value < 0 ? 0 : ev->value > 32767 ? 32767 : ev->value;
        int px = (v * (ev->code == ABS_X ? SIM_W - 1 : SIM_H - 1) + 16383) / 32767;
        if (ev->code == ABS_X) {
            ui->abs_x = v;
            pointer_to(ui, px, ui->py < 0 ? SIM_H / 2 : ui->py);
        } else {
            ui->abs_y = v;
            pointer_to(ui, ui->px < 0 ? SIM_W / 2 : ui->px, px);
        }
    } else if (ev->type == EV_REL && (ev->code == REL_X || ev->code == REL_Y)) {
        int x = ui->px < 0 ? SIM_W / 2 : ui->px, y = ui->py < 0 ? SIM_H / 2 : ui->py;
        pointer_to(ui, ev->code == REL_X ? x + ev->value : x, ev->code == REL_Y ? y + ev->value : y);
    } else if (ev->type == EV_REL && ev->code == REL_WHEEL) {
        ui->wheel += ev->value;
        ui->dirty |= SIM_DRAW_POINTER;
    }
}

unsigned sim_ui_text_utf8(const struct sim_ui *ui, char *out, unsigned size)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ui->text_len; i++) {
        uint32_t c = ui->text[i];
        uint8_t b[4];
        unsigned k;
        if (c < 0x80) {
            b[0] = (uint8_t)c, k = 1;
        } else if (c < 0x800) {
            b[0] = (uint8_t)(0xc0 | c >> 6), b[1] = (uint8_t)(0x80 | (c & 0x3f)), k = 2;
        } else {
            b[0] = (uint8_t)(0xe0 | c >> 12), b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
            b[2] = (uint8_t)(0x80 | (c & 0x3f)), k = 3;
        }
        if (n + k >= size)
            break;
        memcpy(out + n, b, k);
        n += k;
    }
    if (size)
        out[n] = 0;
    return n;
}

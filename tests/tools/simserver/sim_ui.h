/* simserver UI: the firmware-like setup screen's state and how input
 * changes it (sim_ui.c), and how it is drawn (sim_draw.c): only the parts
 * that changed, then the state strip, then the pointer on top. */
#ifndef SIM_UI_H
#define SIM_UI_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_canvas.h"
#include "sim_input.h"
#include "sim_iso.h"
#include "sim_keymap.h"
#include "sim_layout.h"

#define SIM_TEXT_MAX 200

/* Parts of the screen to redraw. */
enum {
    SIM_DRAW_ALL = 0x01, SIM_DRAW_MENU = 0x02, SIM_DRAW_PANEL = 0x04, SIM_DRAW_TEXT = 0x08,
    SIM_DRAW_POINTER = 0x10, SIM_DRAW_STATUS = 0x20, SIM_DRAW_STRIP = 0x40,
};

#define SIM_SPRITE_W 8
#define SIM_SPRITE_H 12

struct sim_ui {
    struct sim_canvas *cv;
    const struct sim_keymap *km;
    struct sim_keystate ks;
    char video[48];              /* "640x480 RGB3", for the information panel */
    bool devices[SIM_ROLES];
    int menu;                    /* highlighted entry */
    int activated;               /* entry whose panel shows; -1 none */
    uint32_t text[SIM_TEXT_MAX];
    unsigned text_len;
    int abs_x, abs_y;            /* last absolute position, 0..32767; -1 none yet */
    int px, py;                  /* pointer in pixels; -1 none yet */
    unsigned buttons;            /* bit 0 left, 1 middle, 2 right */
    unsigned pressed, released;  /* button changes of the mouse report being read */
    int wheel;
    int click_x, click_y;        /* where the last button went down; -1 none */
    unsigned click_buttons;
    char status[SIM_COLS];
    bool boot_requested;         /* Enter on "Boot from USB CD": main reads the medium */
    bool media_valid;
    struct sim_iso_listing media;
    uint16_t seq;
    unsigned dirty;
    /* the pointer sprite and what it covers */
    bool sprite_shown;
    int sprite_x, sprite_y;
    uint8_t sprite_under[SIM_SPRITE_H][SIM_SPRITE_W][3];
};

void sim_ui_init(struct sim_ui *ui, struct sim_canvas *cv, const struct sim_keymap *km);
/* Power on: a fresh boot (state cleared, everything drawn). */
void sim_ui_reset(struct sim_ui *ui);
void sim_ui_event(struct sim_ui *ui, const struct sim_event *ev);
void sim_ui_devices(struct sim_ui *ui, const bool present[SIM_ROLES]);
void sim_ui_set_video(struct sim_ui *ui, const char *desc);
/* The result of a boot request. */
void sim_ui_set_media(struct sim_ui *ui, const struct sim_iso_listing *l, bool ok);

/* sim_draw.c: draws what changed (the caller commits the canvas). */
void sim_ui_render(struct sim_ui *ui);
/* The state strip's bytes (also for the self-test). */
void sim_strip_bytes(const struct sim_ui *ui, uint8_t out[SIM_MARK_BYTES]);
/* UTF-8 of the text; returns its length. */
unsigned sim_ui_text_utf8(const struct sim_ui *ui, char *out, unsigned size);

#endif

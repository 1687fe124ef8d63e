/* simserver layout: where things are on the simulated server's screen, and
 * the machine-readable state strip. This is the contract the host-side tests
 * and the latency benchmark read pixels by (`simserver layout` prints it as
 * JSON, so Python and JavaScript never copy these numbers).
 *
 * The screen is a text UI of SIM_COLS x SIM_ROWS cells of the project's 8x16
 * font (common/font.h) in the top-left SIM_W x SIM_H pixels; each cell has
 * exactly two colours (glyph and background), so a client reads the text
 * back by matching cells against the font.
 *
 * The state strip: SIM_MARK_ROWS rows of SIM_MARK_CELLS square cells of
 * SIM_MARK_CELL pixels at y = SIM_MARK_Y; white = 1, black = 0; bytes are
 * cells left to right, row by row, most significant bit first. Cells are
 * aligned to 8-pixel blocks so they survive JPEG. Bytes (big-endian):
 *   0-1 magic A5 5A   2 version (1)   3 flags (SIM_FLAG_*)
 *   4-5 frame sequence (+1 per redraw)   6 highlighted menu entry
 *   7 activated entry (255: none)   8-9 text length (characters)
 *   10-11 last character typed (low 16 bits of the code point, 0: none)
 *   12-15 CRC-32 (zlib's) of the text as UTF-8
 *   16-17 pointer x, 18-19 pointer y (pixels; 65535: no pointer yet)
 *   20 buttons (bit 0 left, 1 middle, 2 right)   21 wheel ticks (signed)
 *   22 files listed from the medium   23-27 zero
 *   28-29 sum of bytes 0-27 (mod 65536) */
#ifndef SIM_LAYOUT_H
#define SIM_LAYOUT_H

#define SIM_W 640
#define SIM_H 480
#define SIM_CELL_W 8
#define SIM_CELL_H 16
#define SIM_COLS (SIM_W / SIM_CELL_W)
#define SIM_ROWS 28 /* text rows above the state strip */

#define SIM_ROW_TITLE 0
#define SIM_ROW_MENU_HEAD 2
#define SIM_ROW_MENU 4 /* first entry; one row each */
#define SIM_COL_MENU 2
#define SIM_MENU_WIDTH 26
#define SIM_ROW_PANEL_HEAD 2
#define SIM_ROW_PANEL 4
#define SIM_PANEL_ROWS 15
#define SIM_COL_PANEL 31
#define SIM_PANEL_WIDTH 48
#define SIM_ROW_TEXT 20
#define SIM_COL_TEXT 7 /* the field starts here, after "Text:" */
#define SIM_TEXT_WIDTH 72
#define SIM_ROW_POINTER 22
#define SIM_ROW_STATUS 24
#define SIM_ROW_HELP 26

#define SIM_MARK_Y 456
#define SIM_MARK_CELL 8
#define SIM_MARK_CELLS (SIM_W / SIM_MARK_CELL)
#define SIM_MARK_ROWS 3
#define SIM_MARK_BYTES 30

#define SIM_FLAG_ON 0x01
#define SIM_FLAG_MEDIA 0x02    /* the last boot listed a medium */
#define SIM_FLAG_CAPS 0x04
#define SIM_FLAG_KBD 0x08      /* a USB keyboard is open */
#define SIM_FLAG_ABS 0x10      /* a USB absolute mouse is open */
#define SIM_FLAG_REL 0x20      /* a USB relative mouse is open */

/* Colours (0xRRGGBB). */
#define SIM_BG 0x0000aa
#define SIM_FG 0xffffff
#define SIM_HEAD_FG 0xffff55
#define SIM_TITLE_FG 0x000000
#define SIM_TITLE_BG 0x00aaaa
#define SIM_SEL_FG 0xffffff
#define SIM_SEL_BG 0xaa0000
#define SIM_FIELD_FG 0x55ff55
#define SIM_FIELD_BG 0x000000

enum sim_menu_entry { SIM_MENU_INFO, SIM_MENU_KEYBOARD, SIM_MENU_POINTER, SIM_MENU_BOOT, SIM_MENU_COUNT };
extern const char *const sim_menu_names[SIM_MENU_COUNT];

#endif

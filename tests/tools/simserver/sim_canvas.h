/* simserver canvas: the screen as RGB24 pixels, with a generation per row
 * so the video output converts only the rows that changed (TCG is slow:
 * a whole-frame conversion per keystroke would dominate the latency). */
#ifndef SIM_CANVAS_H
#define SIM_CANVAS_H

#include <stdbool.h>
#include <stdint.h>

struct sim_canvas {
    unsigned w, h, stride;
    uint8_t *rgb;
    uint64_t gen;       /* committed frames so far */
    uint64_t *row_gen;  /* the generation a row last changed in (gen + 1: pending) */
    bool pending;       /* rows changed since the last commit */
};

int sim_canvas_init(struct sim_canvas *c, unsigned w, unsigned h);
void sim_canvas_free(struct sim_canvas *c);
/* Clipped to the canvas; each marks its rows changed. */
void sim_canvas_fill(struct sim_canvas *c, int x, int y, int w, int h, uint32_t rgb);
/* ASCII text in cells (col, row) of the 8x16 font; a non-ASCII byte shows as '?'. */
void sim_canvas_text(struct sim_canvas *c, int col, int row, const char *text, uint32_t fg, uint32_t bg);
void sim_canvas_mark(struct sim_canvas *c, int y, int h);
/* Ends a frame: the changed rows belong to generation gen (after the increment). */
void sim_canvas_commit(struct sim_canvas *c);

/* CRC-32 as zlib computes it (the state strip's text checksum). */
uint32_t sim_crc32(uint32_t crc, const uint8_t *data, unsigned long n);

#endif

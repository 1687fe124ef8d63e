#include "capture/nosignal.h"

#include <stdlib.h>
#include <string.h>

#include "common/font.h"
#include "common/log.h"

#define NOSIGNAL_BG 0x10161cu
#define NOSIGNAL_TITLE_FG 0xf0c040u
#define NOSIGNAL_TEXT_FG 0xb8c0c8u
#define NOSIGNAL_HINT_FG 0x78848eu
#define NOSIGNAL_TITLE_MAX_SCALE 8
#define NOSIGNAL_TEXT_MAX_SCALE 2
#define NOSIGNAL_DETAIL_MAX 160

static const char nosignal_hint[] = "piglix keeps trying; the picture comes back by itself";
static const char nosignal_hint_short[] = "piglix keeps trying";

const char *nosignal_title(enum capture_signal reason)
{
    switch (reason) {
    case CAPTURE_SIGNAL_OK: return "";
    case CAPTURE_SIGNAL_NONE: return "NO SIGNAL";
    case CAPTURE_SIGNAL_NO_LOCK: return "NO SYNC LOCK";
    case CAPTURE_SIGNAL_OUT_OF_RANGE: return "OUT OF RANGE";
    case CAPTURE_SIGNAL_TIMEOUT: return "NO FRAMES";
    case CAPTURE_SIGNAL_NO_DEVICE: return "NO CAPTURE DEVICE";
    }
    return "NO PICTURE";
}

/* The largest scale (1..max) at which text fits in 7/8 of the width and
 * max_height pixels of height. */
static unsigned fit_scale(size_t chars, unsigned width, unsigned max_height, unsigned max)
{
    unsigned scale = max;
    while (scale > 1 && ((size_t)FONT_WIDTH * scale * chars > (size_t)width * 7 / 8 ||
                         (unsigned)FONT_HEIGHT * scale > max_height))
        scale--;
    return scale;
}

/* Draws text centred horizontally at y; returns the height used. */
static unsigned draw_centred(uint8_t *rgb, unsigned w, unsigned h, int y, const char *text,
                             uint32_t fg, unsigned scale)
{
    int x = ((int)w - (int)(strlen(text) * FONT_WIDTH * scale)) / 2;
    font_draw_text_rgb24(rgb, w * 3, w, h, x < 0 ? 0 : x, y, text, fg, FONT_BG_NONE, scale);
    return FONT_HEIGHT * scale;
}

/* Copies detail, cut to what fits the width at scale 1 (with "..."). */
static void fit_detail(char *dst, size_t dst_size, const char *detail, unsigned width)
{
    size_t max_chars = (size_t)width * 7 / 8 / FONT_WIDTH;
    if (max_chars >= dst_size)
        max_chars = dst_size - 1;
    size_t len = strlen(detail);
    if (len <= max_chars) {
        memcpy(dst, detail, len + 1);
        return;
    }
    size_t keep = max_chars > 3 ? max_chars - 3 : 0;
    memcpy(dst, detail, keep);
    memcpy(dst + keep, "...", 4);
}

int nosignal_render(struct nosignal_canvas *c, enum capture_signal reason, const char *detail,
                    unsigned width, unsigned height, struct capture_frame *out)
{
    if (width < NOSIGNAL_MIN_WIDTH || height < NOSIGNAL_MIN_HEIGHT || width > NOSIGNAL_MAX_EDGE ||
        height > NOSIGNAL_MAX_EDGE) {
        width = NOSIGNAL_DEFAULT_WIDTH;
        height = NOSIGNAL_DEFAULT_HEIGHT;
    }
    width &= ~1u; /* the server may convert to 4:2:2 */
    size_t size = (size_t)width * 3 * height;
    if (c->cap < size) {
        uint8_t *mem = realloc(c->rgb, size);
        if (!mem) {
            LOG_ERROR("capture", "out of memory for a %ux%u no-signal frame", width, height);
            return -1;
        }
        c->rgb = mem;
        c->cap = size;
    }
    for (size_t i = 0; i < size; i += 3) {
        c->rgb[i] = (uint8_t)(NOSIGNAL_BG >> 16);
        c->rgb[i + 1] = (uint8_t)(NOSIGNAL_BG >> 8);
        c->rgb[i + 2] = (uint8_t)NOSIGNAL_BG;
    }

    const char *title = nosignal_title(reason);
    char line[NOSIGNAL_DETAIL_MAX + 1];
    fit_detail(line, sizeof(line), detail ? detail : "", width);
    const char *hint = (size_t)FONT_WIDTH * strlen(nosignal_hint) <= (size_t)width * 7 / 8 ? nosignal_hint
                                                                                         : nosignal_hint_short;
    size_t text_chars = strlen(line) > strlen(hint) ? strlen(line) : strlen(hint);
    unsigned title_scale = fit_scale(strlen(title), width, height / 4, NOSIGNAL_TITLE_MAX_SCALE);
    unsigned text_scale = fit_scale(text_chars, width, height / 12, NOSIGNAL_TEXT_MAX_SCALE);
    unsigned gap = FONT_HEIGHT * text_scale;
    unsigned block = FONT_HEIGHT * title_scale + gap + 2 * FONT_HEIGHT * text_scale + gap / 2;
    int y = ((int)height - (int)block) / 2;
    y += (int)draw_centred(c->rgb, width, height, y, title, NOSIGNAL_TITLE_FG, title_scale) + (int)gap;
    y += (int)draw_centred(c->rgb, width, height, y, line, NOSIGNAL_TEXT_FG, text_scale) + (int)gap / 2;
    draw_centred(c->rgb, width, height, y, hint, NOSIGNAL_HINT_FG, text_scale);

    memset(out, 0, sizeof(*out));
    out->fmt = PIXFMT_RGB24;
    out->width = width;
    out->height = height;
    out->stride = width * 3;
    out->data = c->rgb;
    return 0;
}

void nosignal_canvas_free(struct nosignal_canvas *c)
{
    free(c->rgb);
    c->rgb = NULL;
    c->cap = 0;
}

#include "hid/hid.h"

#include "common/log.h"

static void log_key_sym(void *ctx, uint32_t keysym, bool down)
{
    struct hid_log_counters *c = ctx;
    c->key_sym++;
    LOG_DEBUG("hid", "key keysym=0x%04x %s", keysym, down ? "down" : "up");
}

static void log_key_code(void *ctx, uint32_t code, uint32_t keysym, bool down)
{
    struct hid_log_counters *c = ctx;
    c->key_code++;
    LOG_DEBUG("hid", "key scancode=0x%02x keysym=0x%04x %s", code, keysym, down ? "down" : "up");
}

static void log_pointer(void *ctx, int x, int y, unsigned w, unsigned h, uint8_t buttons)
{
    struct hid_log_counters *c = ctx;
    c->pointer++;
    LOG_DEBUG("hid", "pointer %d,%d of %ux%u buttons=0x%02x", x, y, w, h, buttons);
}

static void log_release_all(void *ctx)
{
    struct hid_log_counters *c = ctx;
    c->release_all++;
    LOG_DEBUG("hid", "release all");
}

static const struct hid_input_ops log_ops = {
    .key_sym = log_key_sym,
    .key_code = log_key_code,
    .pointer = log_pointer,
    .release_all = log_release_all,
};

void hid_log_input_init(struct hid_input *in, struct hid_log_counters *counters)
{
    in->ops = &log_ops;
    in->ctx = counters;
}

/* app/type_echo.c: [capture] type_echo. With the test source and no USB
 * keyboard, the viewers' keys go to the log backend as before and to the
 * test source's echo (capture.h), which shows them: keystroke to pixel
 * through piglix's own VNC input, capture, pipeline and encoders, with no
 * USB or HDMI in the path (tests/bench/bench_latency_native.py). Main
 * thread: app_type_echo_wrap, once; the wrapper's calls come from the VNC
 * server's thread. */
#include <string.h>

#include "app/app.h"
#include "capture/capture.h"
#include "common/log.h"
#include "hid/hid.h"

/* One for the process: the echo outlives capture restarts (SIGHUP). */
static struct {
    struct hid_input inner;
    struct capture_echo *echo;
} type_echo;

static void echo_key_sym(void *ctx, uint32_t keysym, bool down)
{
    capture_echo_key(type_echo.echo, keysym, down);
    type_echo.inner.ops->key_sym(type_echo.inner.ctx, keysym, down);
}

static void echo_key_code(void *ctx, uint32_t xt_scancode, uint32_t keysym, bool down)
{
    capture_echo_key(type_echo.echo, keysym, down); /* the keysym is what was meant */
    type_echo.inner.ops->key_code(type_echo.inner.ctx, xt_scancode, keysym, down);
}

static void echo_pointer(void *ctx, int x, int y, unsigned width, unsigned height, uint8_t buttons)
{
    type_echo.inner.ops->pointer(type_echo.inner.ctx, x, y, width, height, buttons);
}

static void echo_release_all(void *ctx)
{
    type_echo.inner.ops->release_all(type_echo.inner.ctx);
}

static const struct hid_input_ops echo_ops = {
    .key_sym = echo_key_sym, .key_code = echo_key_code, .pointer = echo_pointer, .release_all = echo_release_all,
};

int app_type_echo_wrap(const struct piglix_config *cfg, struct hid_input *input)
{
    if (!cfg->capture.type_echo)
        return 0;
    if (strcmp(cfg->capture.source, "test") != 0 || cfg->hid.enabled) {
        LOG_WARN("main", "[capture] type_echo is for the test source without [hid]: ignored");
        return 0;
    }
    if (!type_echo.echo && !(type_echo.echo = capture_echo_create()))
        return -1;
    type_echo.inner = *input;
    *input = (struct hid_input){.ops = &echo_ops, .ctx = NULL};
    LOG_INFO("main", "the test source shows what viewers type ([capture] type_echo)");
    return 0;
}

struct capture_echo *app_type_echo(void)
{
    return type_echo.echo;
}

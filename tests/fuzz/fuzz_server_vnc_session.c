/* Fuzzes a whole VNC session as a client drives it: the bytes after the
 * handshake go through piglix's framing, libvncserver's message handling,
 * the QEMU key extension and the update building, in the real server. The
 * server must survive anything, answer or close, and leak nothing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/capture.h"
#include "common/config.h"
#include "common/log.h"
#include "hid/hid.h"
#include "server/server.h"

static struct server *srv;
static struct capture_slot *slot;
static struct piglix_config cfg;
static struct hid_log_counters counters;

static void set_up(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    config_defaults(&cfg);
    strcpy(cfg.vnc.listen, "127.0.0.1");
    strcpy(cfg.vnc.auth, "none");
    cfg.vnc.port = 0; /* any free port: the fuzzer only uses adopted sockets */
    cfg.capture.width = 128;
    cfg.capture.height = 96;
    slot = capture_slot_create();
    struct hid_input in;
    hid_log_input_init(&in, &counters);
    struct server_params sp = {.vnc = &cfg.vnc, .encode = &cfg.encode, .width = (unsigned)cfg.capture.width,
                               .height = (unsigned)cfg.capture.height, .state_dir = cfg.state.dir};
    srv = server_create(&sp, slot, &in);
    if (!srv)
        abort();
    /* a small picture with some structure, so updates carry real rects */
    static uint8_t pix[128 * 96 * 2];
    for (size_t i = 0; i < sizeof(pix); i++)
        pix[i] = (uint8_t)(i * 7 + (i / 256) * 13);
    struct capture_frame f = {.fmt = PIXFMT_YUYV, .width = 128, .height = 96, .stride = 256, .data = pix};
    capture_slot_publish(slot, &f);
    server_run_once(srv, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv)
        set_up();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 0;
    /* Handshake first (so libvncserver's WebSocket sniffing sees RFB at
     * once): version, security type None, ClientInit shared. An input that
     * starts with "RFB " brings its own handshake (piglix's, vnc_handshake.c). */
    static const char hello[] = "RFB 003.008\n";
    size_t off = 0;
    if (size >= 4 && memcmp(data, "RFB ", 4) == 0) {
        size_t n = size < 12 ? size : 12;
        if (write(sv[0], data, n) != (ssize_t)n)
            abort();
        off = n;
    } else if (write(sv[0], hello, 12) != 12 || write(sv[0], "\x01\x01", 2) != 2) {
        abort();
    }
    server_adopt_client(srv, sv[1], "fuzz");
    char sink[65536];
    for (int turn = 0; turn < 64; turn++) {
        if (off < size) {
            size_t chunk = size - off < 4096 ? size - off : 4096;
            ssize_t w = send(sv[0], data + off, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w > 0)
                off += (size_t)w;
        }
        server_run_once(srv, 0);
        while (recv(sv[0], sink, sizeof(sink), MSG_DONTWAIT) > 0)
            ;
        if (off >= size && turn > 4)
            break;
    }
    close(sv[0]);
    for (int turn = 0; turn < 4; turn++)
        server_run_once(srv, 0);
    return 0;
}

/* Viewers' keyboard and pointer events, from libvncserver's hooks and the
 * QEMU Extended Key Event extension (which libvncserver has no server side
 * for), delivered to the one hid_input interface. */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/log.h"
#include "server/vnc_internal.h"

#define QEMU_EXT_KEY_ENCODING (-258)

static struct server *server_of(rfbClientPtr cl) { return cl->screen->screenData; }

/* A view-only viewer (view-only VNC password, or a web account with the
 * viewer role) sees the picture; whatever it sends as input goes no
 * further than this, counted. Every input path asks here. */
static bool input_refused(rfbClientPtr cl)
{
    struct vnc_client *c = cl->clientData;
    if (!c || !c->view_only)
        return false;
    server_of(cl)->stats.input_dropped_view_only++;
    if (!c->input_refusal_logged) { /* once per viewer: not an entry per key */
        c->input_refusal_logged = true;
        audit_record_role_refused(AUDIT_IF_VNC, c->preauth ? "web viewer" : "vnc", cl->host,
                                  "keyboard and mouse (view only)");
    }
    return true;
}

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
    if (input_refused(cl))
        return;
    struct server *srv = server_of(cl);
    struct vnc_client *c = cl->clientData;
    if (!c || !vnc_control_input(c))
        return; /* dropped (counted in control/) */
    srv->input.ops->key_sym(srv->input.ctx, (uint32_t)keysym, down != 0);
}

static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
    if (input_refused(cl))
        return;
    struct server *srv = server_of(cl);
    struct vnc_client *c = cl->clientData;
    if (!c || !vnc_control_input(c))
        return; /* dropped (counted in control/) */
    c->buttons = (uint8_t)mask;
    unsigned w = (unsigned)cl->screen->width, h = (unsigned)cl->screen->height;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if ((unsigned)x >= w) x = (int)w - 1;
    if ((unsigned)y >= h) y = (int)h - 1;
    srv->input.ops->pointer(srv->input.ctx, x, y, w, h, (uint8_t)mask);
}

/* piglix does not take the viewers' clipboard (paste goes through
 * /api/hid/paste); a view-only viewer's is counted as refused input. */
static void on_cut_text(char *str, int len, rfbClientPtr cl)
{
    (void)str;
    (void)len;
    (void)input_refused(cl);
}

static rfbBool qemu_new_client(rfbClientPtr cl, void **data)
{
    (void)cl;
    *data = NULL;
    return TRUE;
}

static rfbBool qemu_enable(rfbClientPtr cl, void **data, int encoding)
{
    (void)data;
    struct vnc_client *c = cl->clientData;
    if (encoding != QEMU_EXT_KEY_ENCODING || !c)
        return FALSE;
    /* The server confirms with an empty rect of this pseudo-encoding in the
     * next update; only then may the viewer send extended key events. */
    if (!c->qemu_keys)
        c->qemu_ack_pending = true;
    c->qemu_keys = true;
    return TRUE;
}

/* Called with only the type byte read; rfb_msg_frame() made sure the other
 * 11 bytes are already buffered, so these reads do not block. */
static rfbBool qemu_message(rfbClientPtr cl, void *data, const rfbClientToServerMsg *msg)
{
    (void)data;
    if (msg->type != rfbQemuEvent)
        return FALSE;
    uint8_t b[11];
    if (rfbReadExact(cl, (char *)b, sizeof(b)) <= 0) {
        rfbCloseClient(cl);
        return TRUE;
    }
    struct vnc_client *c = cl->clientData;
    if (!c || !c->qemu_keys || b[0] != 0) {
        LOG_INFO("vnc", "client %s: QEMU message without negotiation; closing", cl->host);
        rfbCloseClient(cl);
        return TRUE;
    }
    bool down = (b[1] << 8 | b[2]) != 0;
    uint32_t keysym = (uint32_t)b[3] << 24 | (uint32_t)b[4] << 16 | (uint32_t)b[5] << 8 | b[6];
    uint32_t code = (uint32_t)b[7] << 24 | (uint32_t)b[8] << 16 | (uint32_t)b[9] << 8 | b[10];
    if (input_refused(cl))
        return TRUE;
    struct server *srv = server_of(cl);
    if (!vnc_control_input(c))
        return TRUE; /* dropped (counted in control/) */
    srv->input.ops->key_code(srv->input.ctx, code, keysym, down);
    return TRUE;
}

static int qemu_encodings[] = {QEMU_EXT_KEY_ENCODING, 0};

static rfbProtocolExtension qemu_extension = {
    .newClient = qemu_new_client,
    .pseudoEncodings = qemu_encodings,
    .enablePseudoEncoding = qemu_enable,
    .handleMessage = qemu_message,
};

void vnc_input_install(struct server *srv)
{
    /* libvncserver keeps extensions in a process-wide list; registering the
     * same static struct twice is harmless (it checks). */
    rfbRegisterProtocolExtension(&qemu_extension);
    srv->screen->kbdAddEvent = on_key;
    srv->screen->ptrAddEvent = on_pointer;
    srv->screen->setXCutText = on_cut_text;
    /* Deliver every pointer event at once: deferred ones are flushed only by
     * rfbProcessEvents, which piglix does not use. */
    srv->screen->deferPtrUpdateTime = 0;
}

void vnc_input_free_extensions(rfbClientPtr cl)
{
    /* libvncserver allocates a record per enabled extension and client but
     * frees it neither on disconnect nor in rfbDisableExtension(). */
    rfbExtensionData *e = cl->extensions;
    while (e) {
        rfbExtensionData *next = e->next;
        free(e->data);
        free(e);
        e = next;
    }
    cl->extensions = NULL;
}

void vnc_input_release(struct server *srv, struct vnc_client *c)
{
    if (!c->view_only) /* it pressed nothing: others' held keys stay held */
        srv->input.ops->release_all(srv->input.ctx);
    vnc_input_free_extensions(c->cl);
}

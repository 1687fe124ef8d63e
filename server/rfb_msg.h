/* server/rfb_msg: frames client-to-server RFB messages before libvncserver
 * reads them. libvncserver reads a message with blocking reads, so a client
 * that sends half a message would hold the server thread; piglix only hands
 * it a message once all of its bytes have arrived (peeked), and rejects what
 * it does not accept (unknown types, oversized lengths) with a reason. */
#ifndef PIGLIX_SERVER_RFB_MSG_H
#define PIGLIX_SERVER_RFB_MSG_H

#include <stddef.h>
#include <stdint.h>

enum rfb_msg_stage {
    RFB_STAGE_VERSION,   /* expecting "RFB xxx.yyy\n" */
    RFB_STAGE_SECURITY,  /* expecting the security type byte */
    RFB_STAGE_VNCAUTH,   /* expecting the 16-byte challenge response */
    RFB_STAGE_INIT,      /* expecting ClientInit */
    RFB_STAGE_NORMAL,
};

#define RFB_MSG_MAX_ENCODINGS 512
#define RFB_MSG_MAX_CUT_TEXT (128 * 1024)
/* The largest message rfb_msg_frame() ever accepts. */
#define RFB_MSG_MAX_SIZE (8 + RFB_MSG_MAX_CUT_TEXT)

struct rfb_msg_info {
    size_t size;          /* total bytes of the message when complete */
    uint8_t type;
    int may_reply;        /* libvncserver may write to the socket while handling it */
    const char *error;    /* why the message was rejected */
};

/* Looks at the first len buffered bytes. Returns 1 when a whole message is
 * there (info->size bytes), 0 when more bytes are needed (info->size is how
 * many are needed when known, else 0), -1 when the message is rejected
 * (info->error says why). */
int rfb_msg_frame(enum rfb_msg_stage stage, const uint8_t *buf, size_t len,
                  struct rfb_msg_info *info);

#define RFB_MSG_VERSION_LEN 12
/* Parses a client's ProtocolVersion ("RFB 003.00x\n", exactly). Returns the
 * minor version piglix speaks with it: 3, 7 or 8 (Apple's 3.889 is 3.8), or
 * -1 for anything else. */
int rfb_msg_parse_version(const uint8_t v[RFB_MSG_VERSION_LEN]);

#endif

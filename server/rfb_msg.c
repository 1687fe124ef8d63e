#include "server/server.h"

#include <string.h>

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int need(size_t have, size_t want, struct rfb_msg_info *info)
{
    info->size = want;
    return have >= want ? 1 : 0;
}

static int reject(struct rfb_msg_info *info, const char *why)
{
    info->error = why;
    return -1;
}

static int frame_normal(const uint8_t *buf, size_t len, struct rfb_msg_info *info)
{
    info->type = buf[0];
    switch (buf[0]) {
    case 0: /* SetPixelFormat */
        info->may_reply = 1;
        return need(len, 20, info);
    case 2: /* SetEncodings */
        info->may_reply = 1;
        if (len < 4)
            return need(len, 4, info);
        if (be16(buf + 2) > RFB_MSG_MAX_ENCODINGS)
            return reject(info, "SetEncodings lists too many encodings");
        return need(len, 4 + 4 * (size_t)be16(buf + 2), info);
    case 3: /* FramebufferUpdateRequest */
        return need(len, 10, info);
    case 4: /* KeyEvent */
        return need(len, 8, info);
    case 5: /* PointerEvent */
        return need(len, 6, info);
    case 6: { /* ClientCutText; a negative length is the extended clipboard format */
        info->may_reply = 1;
        if (len < 8)
            return need(len, 8, info);
        uint32_t n = be32(buf + 4);
        if (n & 0x80000000u)
            n = (uint32_t)(-(int64_t)(int32_t)n);
        if (n > RFB_MSG_MAX_CUT_TEXT)
            return reject(info, "ClientCutText longer than 128 KiB");
        return need(len, 8 + (size_t)n, info);
    }
    case 251: /* SetDesktopSize */
        if (len < 8)
            return need(len, 8, info);
        if (buf[6] == 0)
            return reject(info, "SetDesktopSize with no screens");
        return need(len, 8 + 16 * (size_t)buf[6], info);
    case 255: /* QEMU client message */
        if (len < 2)
            return need(len, 2, info);
        if (buf[1] != 0)
            return reject(info, "unsupported QEMU client message");
        return need(len, 12, info);
    default:
        return reject(info, "unknown client message type");
    }
}

int rfb_msg_frame(enum rfb_msg_stage stage, const uint8_t *buf, size_t len,
                  struct rfb_msg_info *info)
{
    memset(info, 0, sizeof(*info));
    switch (stage) {
    case RFB_STAGE_VERSION:
        if (len >= 4 && memcmp(buf, "RFB ", 4) != 0)
            return reject(info, "not an RFB client");
        return need(len, 12, info);
    case RFB_STAGE_SECURITY:
    case RFB_STAGE_INIT:
        return need(len, 1, info);
    case RFB_STAGE_VNCAUTH:
        return need(len, 16, info);
    case RFB_STAGE_NORMAL:
        if (len < 1)
            return need(len, 1, info);
        return frame_normal(buf, len, info);
    }
    return reject(info, "bad stage");
}

int rfb_msg_parse_version(const uint8_t v[RFB_MSG_VERSION_LEN])
{
    if (memcmp(v, "RFB 003.", 8) != 0 || v[11] != '\n')
        return -1;
    int minor = 0;
    for (int i = 8; i < 11; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        minor = minor * 10 + (v[i] - '0');
    }
    switch (minor) {
    case 3:
    case 7:
    case 8:
        return minor;
    case 889: /* macOS Screen Sharing: 3.8 otherwise */
        return 8;
    default:
        return -1;
    }
}

/* h264/h264_m2m_off.c — no V4L2 memory-to-memory backend in this build yet
 * (branch vid-m2m brings h264_m2m.c, which defines the real one). */
#include "h264/h264_internal.h"

const struct h264_backend_ops *const h264_backend_m2m = NULL;

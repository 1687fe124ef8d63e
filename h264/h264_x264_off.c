/* h264/h264_x264_off.c — builds without libx264 (PIGLIX_WITH_X264=OFF). */
#include "h264/h264_internal.h"

const struct h264_backend_ops *const h264_backend_x264 = NULL;

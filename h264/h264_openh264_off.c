/* h264/h264_openh264_off.c — builds without openh264 (PIGLIX_WITH_OPENH264=OFF). */
#include "h264/h264_internal.h"

const struct h264_backend_ops *const h264_backend_openh264 = NULL;

/* capture/testsrc_scene: what each test-source scenario provides. A scene
 * draws frame n as a pure function of (geometry, fps, n), clipped to the
 * canvas clip, and says where two frames can differ; the renderer
 * (testsrc.c) redraws only there. Internal to capture/testsrc*. */
#ifndef PIGLIX_CAPTURE_TESTSRC_SCENE_H
#define PIGLIX_CAPTURE_TESTSRC_SCENE_H

#include <stdint.h>

#include "capture/testsrc_canvas.h"

#define TESTSRC_MAX_CHANGED 8

struct testsrc_scene_ops {
    const char *name;
    /* Scene state for a width x height frame at fps; NULL when out of memory. */
    void *(*create)(unsigned width, unsigned height, unsigned fps);
    void (*destroy)(void *scene);
    /* Draws frame n inside c->clip (and nowhere else). */
    void (*draw)(void *scene, const struct testsrc_canvas *c, uint64_t n);
    /* Fills up to TESTSRC_MAX_CHANGED rectangles outside which frames a and b
     * are identical and returns how many, or -1 when they may differ anywhere. */
    int (*changed)(void *scene, uint64_t a, uint64_t b, struct testsrc_rect *rects);
};

extern const struct testsrc_scene_ops testsrc_scene_bios;
extern const struct testsrc_scene_ops testsrc_scene_desktop;
extern const struct testsrc_scene_ops testsrc_scene_motion;
extern const struct testsrc_scene_ops testsrc_scene_pan;

#endif

/* The "desktop" scenario: a graphical desktop with two still windows, one
 * window being dragged along a smooth closed path, a mouse pointer moving
 * along another, and a taskbar clock (HH:MM from 09:00 + n / fps). Paths are
 * in frames, not seconds: frame n looks the same at any fps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/testsrc_scene.h"
#include "common/font.h"

#define DESK_TOP_COLOUR 0x2d5f7f
#define DESK_BOTTOM_COLOUR 0x0f2436
#define DESK_TASKBAR 0x1f2328
#define DESK_TASKBAR_EDGE 0x4a525c
#define DESK_BUTTON 0x343a42
#define DESK_BUTTON_ACTIVE 0x4d5866
#define DESK_BORDER 0x1a1d21
#define DESK_TITLE_INACTIVE 0x5a6068
#define DESK_TEXT_LIGHT 0xe8e8e8

/* One turn of each path, in frames: a few pixels per frame at 1080p. */
#define DESK_DRAG_PERIOD_X 600
#define DESK_DRAG_PERIOD_Y 430
#define DESK_POINTER_PERIOD_X 640
#define DESK_POINTER_PERIOD_Y 470
#define DESK_CLOCK_START_S (9 * 3600)

struct desk_window {
    const char *title;
    uint32_t title_bg, client_bg, text_fg;
    const char *const *lines;
    const uint32_t *icons; /* per line, 0 = none; NULL = no icons */
    int n_lines;
};

struct desktop_scene {
    int width, height, fps;
    int ui;           /* scale of text and widgets: 1 up to 1080p-ish, 2 at 4K */
    int taskbar_h, title_h, line_h, button_w;
    struct testsrc_rect terminal, notes; /* still windows */
    int drag_w, drag_h;                  /* the dragged window's size */
    struct testsrc_rect clock;
};

static const char *const terminal_lines[] = {
    "admin@server:~$ uptime",
    " 09:14:02 up 12 days,  3:07,  2 users,  load average: 0.08, 0.11, 0.09",
    "admin@server:~$ df -h /",
    "Filesystem      Size  Used Avail Use% Mounted on",
    "/dev/sda2        98G   41G   52G  45% /",
    "admin@server:~$ systemctl is-active nginx postgresql",
    "active",
    "active",
    "admin@server:~$ tail -n 3 /var/log/backup.log",
    "[02:00:01] backup started: /srv/data -> nas01:/backups",
    "[02:41:17] 1832 files, 812 MB transferred",
    "[02:41:18] backup finished, exit status 0",
    "admin@server:~$ _",
};

static const char *const notes_lines[] = {
    "TODO this week",
    "",
    "- renew the TLS certificate before Friday",
    "- check RAID status on the storage node",
    "- update firmware on the rack 3 switches",
    "- order two spare power supplies",
    "",
    "Maintenance window: Saturday 02:00-04:00",
    "Contact: ops on-call rotation",
};

static const char *const files_lines[] = {
    "/home/admin/projects",
    "",
    "    docs/",
    "    scripts/",
    "    notes.txt            4 KB",
    "    backup.tar.gz      812 MB",
    "    kvm-setup.md         9 KB",
    "    rack-photo.jpg     2.1 MB",
};
static const uint32_t files_icons[] = {0, 0, 0xe0b040, 0xe0b040, 0xd8d8d8, 0xa070c0, 0xd8d8d8,
                                       0x60a0e0};

static const struct desk_window desk_terminal = {"Terminal - admin@server", 0x3c4650, 0x101214,
                                                 0xc8d0c8, terminal_lines, NULL,
                                                 sizeof(terminal_lines) / sizeof(char *)};
static const struct desk_window desk_notes = {"Notes", 0x3c4650, 0xf4f1e8, 0x202020, notes_lines,
                                              NULL, sizeof(notes_lines) / sizeof(char *)};
static const struct desk_window desk_files = {"Files", 0x2f6fb0, 0xffffff, 0x1a1a1a, files_lines,
                                              files_icons, sizeof(files_lines) / sizeof(char *)};

/* The pointer: 'a' outline, 'b' fill. */
static const char *const pointer_rows[] = {
    "a",          "aa",         "aba",         "abba",         "abbba",
    "abbbba",     "abbbbba",    "abbbbbba",    "abbbbbbba",    "abbbbbbbba",
    "abbbbbbbbba", "abbbbbbaaaaa", "abbbabba",  "abbaabba",     "aba abba",
    "aa   abba",  "a    abba",  "      abba",  "       aa",
};
#define POINTER_ROWS ((int)(sizeof(pointer_rows) / sizeof(pointer_rows[0])))
#define POINTER_COLS 12
static const uint32_t pointer_palette[] = {0x000000, 0xffffff};

static struct testsrc_rect frac_rect(const struct desktop_scene *s, int x, int y, int w, int h)
{
    /* Arguments in per mille of the frame. */
    return testsrc_rect_make(s->width * x / 1000, s->height * y / 1000, s->width * w / 1000,
                             s->height * h / 1000);
}

static void *desktop_create(unsigned width, unsigned height, unsigned fps)
{
    struct desktop_scene *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->width = (int)width;
    s->height = (int)height;
    s->fps = (int)fps;
    s->ui = ((int)height + 540) / 1080;
    if (s->ui < 1)
        s->ui = 1;
    s->taskbar_h = 40 * s->ui;
    s->title_h = (FONT_HEIGHT + 8) * s->ui;
    s->line_h = (FONT_HEIGHT + 2) * s->ui;
    /* Four task buttons and the clock share the taskbar of small frames. */
    s->button_w = 140 * s->ui < s->width / 6 ? 140 * s->ui : s->width / 6;
    s->terminal = frac_rect(s, 60, 70, 470, 520);
    s->notes = frac_rect(s, 500, 200, 400, 450);
    s->drag_w = s->width * 300 / 1000;
    s->drag_h = s->height * 340 / 1000;
    int clock_w = 5 * FONT_WIDTH * s->ui, clock_h = FONT_HEIGHT * s->ui;
    s->clock = testsrc_rect_make(s->width - clock_w - 16 * s->ui,
                                 s->height - s->taskbar_h + (s->taskbar_h - clock_h) / 2, clock_w,
                                 clock_h);
    return s;
}

static void desktop_destroy(void *scene) { free(scene); }

/* A point on a path: centre + amplitude * sin(turn fraction). */
static int path_coord(int centre, int amplitude, uint64_t n, unsigned period, uint32_t offset)
{
    uint32_t phase = (uint32_t)((n % period) * 65536 / period) + offset;
    return centre + (int)((int64_t)amplitude * testsrc_sine(phase) / TESTSRC_SINE_ONE);
}

static struct testsrc_rect drag_rect(const struct desktop_scene *s, uint64_t n)
{
    int room_x = s->width - s->drag_w, room_y = s->height - s->taskbar_h - s->drag_h;
    int x = path_coord(room_x / 2, room_x * 2 / 5, n, DESK_DRAG_PERIOD_X, 0);
    int y = path_coord(room_y / 2, room_y * 2 / 5, n, DESK_DRAG_PERIOD_Y, 16384);
    return testsrc_rect_make(x, y, s->drag_w, s->drag_h);
}

static struct testsrc_rect pointer_rect(const struct desktop_scene *s, uint64_t n)
{
    int room_y = s->height - s->taskbar_h;
    int x = path_coord(s->width / 2, s->width * 42 / 100, n, DESK_POINTER_PERIOD_X, 8192);
    int y = path_coord(room_y / 2, room_y * 2 / 5, n, DESK_POINTER_PERIOD_Y, 0);
    return testsrc_rect_make(x, y, POINTER_COLS * s->ui, POINTER_ROWS * s->ui);
}

static unsigned clock_minutes(const struct desktop_scene *s, uint64_t n)
{
    return (unsigned)((DESK_CLOCK_START_S + n / (uint64_t)s->fps) / 60 % (24 * 60));
}

static void draw_background(const struct desktop_scene *s, const struct testsrc_canvas *c)
{
    const struct testsrc_rect *k = &c->clip;
    int span = s->height > 1 ? s->height - 1 : 1;
    for (int y = k->y; y < k->y + k->h; y++) {
        uint32_t colour = 0;
        for (int shift = 0; shift <= 16; shift += 8) {
            int top = (DESK_TOP_COLOUR >> shift) & 0xff;
            int bottom = (DESK_BOTTOM_COLOUR >> shift) & 0xff;
            colour |= (uint32_t)(top + (bottom - top) * y / span) << shift;
        }
        testsrc_canvas_fill(c, testsrc_rect_make(k->x, y, k->w, 1), colour);
    }
}

static void draw_icons(const struct desktop_scene *s, const struct testsrc_canvas *c)
{
    static const char *const names[] = {"Home", "Trash", "Logs"};
    static const uint32_t colours[] = {0xe0b040, 0x90a0b0, 0x70b070};
    int u = s->ui;
    for (int i = 0; i < 3; i++) {
        int x = 20 * u, y = s->height * 70 / 1000 + i * 90 * u;
        testsrc_canvas_fill(c, testsrc_rect_make(x + 8 * u, y, 40 * u, 34 * u), colours[i]);
        testsrc_canvas_outline(c, testsrc_rect_make(x + 8 * u, y, 40 * u, 34 * u), u, DESK_BORDER);
        testsrc_canvas_text(c, x + 4 * u, y + 40 * u, names[i], DESK_TEXT_LIGHT, FONT_BG_NONE,
                            (unsigned)u);
    }
}

static void draw_window(const struct desktop_scene *s, const struct testsrc_canvas *c,
                        const struct desk_window *w, struct testsrc_rect r, bool active)
{
    int u = s->ui;
    if (testsrc_rect_empty(testsrc_rect_intersect(r, c->clip)))
        return;
    struct testsrc_canvas inside = testsrc_canvas_clipped(c, r);
    testsrc_canvas_fill(&inside, testsrc_rect_make(r.x, r.y, r.w, s->title_h),
                        active ? w->title_bg : DESK_TITLE_INACTIVE);
    testsrc_canvas_text(&inside, r.x + 8 * u, r.y + 4 * u, w->title, DESK_TEXT_LIGHT,
                        FONT_BG_NONE, (unsigned)u);
    static const uint32_t buttons[] = {0x60c060, 0xe0c040, 0xe05050};
    for (int i = 0; i < 3; i++) {
        int bx = r.x + r.w - (3 - i) * 20 * u - 4 * u;
        testsrc_canvas_fill(&inside, testsrc_rect_make(bx + 4 * u, r.y + 6 * u, 12 * u, 12 * u),
                            buttons[i]);
    }
    struct testsrc_rect client =
        testsrc_rect_make(r.x, r.y + s->title_h, r.w, r.h - s->title_h);
    testsrc_canvas_fill(&inside, client, w->client_bg);
    struct testsrc_canvas text_area = testsrc_canvas_clipped(
        &inside, testsrc_rect_make(client.x + 6 * u, client.y + 4 * u, client.w - 12 * u,
                                   client.h - 8 * u));
    for (int i = 0; i < w->n_lines; i++) {
        int ty = client.y + 8 * u + i * s->line_h;
        if (w->icons && w->icons[i]) {
            testsrc_canvas_fill(&text_area, testsrc_rect_make(client.x + 10 * u, ty + 2 * u,
                                                              16 * u, 12 * u),
                                w->icons[i]);
        }
        testsrc_canvas_text(&text_area, client.x + 8 * u, ty, w->lines[i], w->text_fg,
                            FONT_BG_NONE, (unsigned)u);
    }
    testsrc_canvas_outline(c, r, u, DESK_BORDER);
}

static void draw_taskbar(const struct desktop_scene *s, const struct testsrc_canvas *c, uint64_t n)
{
    int u = s->ui, top = s->height - s->taskbar_h;
    testsrc_canvas_fill(c, testsrc_rect_make(0, top, s->width, s->taskbar_h), DESK_TASKBAR);
    testsrc_canvas_fill(c, testsrc_rect_make(0, top, s->width, u), DESK_TASKBAR_EDGE);
    static const char *const tasks[] = {"piglix", "Terminal", "Notes", "Files"};
    int text_y = top + (s->taskbar_h - FONT_HEIGHT * u) / 2;
    for (int i = 0; i < 4; i++) {
        int bx = 6 * u + i * (s->button_w + 10 * u);
        struct testsrc_rect button =
            testsrc_rect_make(bx, top + 5 * u, s->button_w, s->taskbar_h - 9 * u);
        testsrc_canvas_fill(c, button, i == 3 ? DESK_BUTTON_ACTIVE : DESK_BUTTON);
        testsrc_canvas_text(c, bx + 10 * u, text_y, tasks[i], DESK_TEXT_LIGHT, FONT_BG_NONE,
                            (unsigned)u);
    }
    unsigned minutes = clock_minutes(s, n);
    char clock[24]; /* "HH:MM"; sized for any unsigned (gcc -Wformat-truncation) */
    snprintf(clock, sizeof(clock), "%02u:%02u", minutes / 60, minutes % 60);
    testsrc_canvas_text(c, s->clock.x, s->clock.y, clock, DESK_TEXT_LIGHT, DESK_TASKBAR,
                        (unsigned)u);
}

static void desktop_draw(void *scene, const struct testsrc_canvas *c, uint64_t n)
{
    const struct desktop_scene *s = scene;
    draw_background(s, c);
    draw_icons(s, c);
    draw_window(s, c, &desk_terminal, s->terminal, false);
    draw_window(s, c, &desk_notes, s->notes, false);
    draw_window(s, c, &desk_files, drag_rect(s, n), true);
    draw_taskbar(s, c, n);
    struct testsrc_rect p = pointer_rect(s, n);
    testsrc_canvas_sprite(c, p.x, p.y, pointer_rows, POINTER_ROWS, pointer_palette, s->ui);
}

/* Adds the area a moving thing covered in either frame: one rectangle when
 * the two positions overlap (the usual few-pixel step), two otherwise. */
static int add_moved(struct testsrc_rect before, struct testsrc_rect after,
                     struct testsrc_rect *rects, int count)
{
    if (testsrc_rect_equal(before, after))
        return count;
    if (!testsrc_rect_empty(testsrc_rect_intersect(before, after))) {
        rects[count++] = testsrc_rect_bounds(before, after);
    } else {
        rects[count++] = before;
        rects[count++] = after;
    }
    return count;
}

static int desktop_changed(void *scene, uint64_t a, uint64_t b, struct testsrc_rect *rects)
{
    const struct desktop_scene *s = scene;
    int count = add_moved(drag_rect(s, a), drag_rect(s, b), rects, 0);
    count = add_moved(pointer_rect(s, a), pointer_rect(s, b), rects, count);
    if (clock_minutes(s, a) != clock_minutes(s, b))
        rects[count++] = s->clock;
    return count;
}

const struct testsrc_scene_ops testsrc_scene_desktop = {
    .name = "desktop",
    .create = desktop_create,
    .destroy = desktop_destroy,
    .draw = desktop_draw,
    .changed = desktop_changed,
};

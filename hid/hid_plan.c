#include "hid/hid_plan.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hid/hid_keys.h"
#include "hid/hid_utf8.h"

void hid_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int push(struct hid_plan *p, struct hid_step s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct hid_step *steps = realloc(p->steps, cap * sizeof(*steps));
        if (!steps)
            return -ENOMEM;
        p->steps = steps;
        p->cap = cap;
    }
    p->steps[p->n++] = s;
    return 0;
}

void hid_plan_free(struct hid_plan *p)
{
    free(p->steps);
    memset(p, 0, sizeof(*p));
}

/* A stroke as steps: its modifiers alone (when it has any), the key with
 * them, then nothing held. */
static int push_stroke(struct hid_plan *p, const struct hid_stroke *s)
{
    struct hid_step st = {0};
    if (s->level & HID_LEVEL_SHIFT)
        st.mods |= HID_MOD_LSHIFT;
    if (s->level & HID_LEVEL_ALTGR)
        st.mods |= HID_MOD_RALT;
    if (s->caps)
        st.flags |= HID_STEP_CAPS;
    int r = 0;
    /* A letter always gets its own modifier step, so the Caps Lock
     * inversion also has one. */
    if (st.mods || s->caps)
        r = push(p, st);
    st.keys[0] = s->usage;
    if (!r)
        r = push(p, st);
    if (!r)
        r = push(p, (struct hid_step){0});
    return r;
}

/* Characters the layout lacks, listed once each for the message. */
struct missing {
    uint32_t cps[10];
    size_t n, total;
};

static void note_missing(struct missing *m, uint32_t cp)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->cps[i] == cp)
            return;
    m->total++;
    if (m->n < sizeof(m->cps) / sizeof(m->cps[0]))
        m->cps[m->n++] = cp;
}

static void describe_missing(const struct missing *m, const struct hid_layout *l, char *err, size_t errlen)
{
    char msg[512];
    size_t at = (size_t)snprintf(msg, sizeof(msg), "layout %s cannot type", l->name);
    for (size_t i = 0; i < m->n && at < sizeof(msg); i++) {
        char utf8[5];
        bool printable = m->cps[i] >= 0x20 && m->cps[i] != 0x7f && hid_utf8_encode(m->cps[i], utf8);
        at += (size_t)snprintf(msg + at, sizeof(msg) - at, "%s %s%s%sU+%04X%s", i ? "," : "",
                               printable ? "'" : "", printable ? utf8 : "", printable ? "' (" : "",
                               (unsigned)m->cps[i], printable ? ")" : "");
    }
    if (m->total > m->n && at < sizeof(msg))
        snprintf(msg + at, sizeof(msg) - at, " and %zu more", m->total - m->n);
    hid_set_err(err, errlen, "%s", msg);
}

int hid_plan_text(struct hid_plan *p, const struct hid_layout *l, const char *text, size_t len,
                  char *err, size_t errlen)
{
    if (len > HID_PLAN_MAX_TEXT) {
        hid_set_err(err, errlen, "text too long (%zu bytes, at most %d)", len, HID_PLAN_MAX_TEXT);
        return -EINVAL;
    }
    /* First pass: check everything, so a refusal types nothing. */
    struct missing m = {0};
    size_t pos = 0;
    while (pos < len) {
        uint32_t cp;
        if (hid_utf8_next(text, len, &pos, &cp) < 0) {
            hid_set_err(err, errlen, "invalid UTF-8 at byte %zu", pos);
            return -EINVAL;
        }
        if (cp == '\r')
            cp = '\n';
        struct hid_stroke s[HID_LAYOUT_MAX_STROKES];
        if (hid_layout_strokes(l, cp, s) == 0)
            note_missing(&m, cp);
    }
    if (m.total) {
        describe_missing(&m, l, err, errlen);
        return -EINVAL;
    }
    size_t old_n = p->n, old_chars = p->chars;
    pos = 0;
    while (pos < len) {
        uint32_t cp;
        hid_utf8_next(text, len, &pos, &cp);
        if (cp == '\r') {
            cp = '\n';
            if (pos < len && text[pos] == '\n')
                pos++;
        }
        struct hid_stroke s[HID_LAYOUT_MAX_STROKES];
        int ns = hid_layout_strokes(l, cp, s);
        for (int i = 0; i < ns; i++) {
            if (push_stroke(p, &s[i]) < 0) {
                p->n = old_n, p->chars = old_chars;
                hid_set_err(err, errlen, "out of memory");
                return -ENOMEM;
            }
        }
        p->chars++;
    }
    return 0;
}

int hid_plan_combo(struct hid_plan *p, const char *const *keys, int n, char *err, size_t errlen)
{
    if (n < 1 || n > HID_PLAN_MAX_COMBO_KEYS) {
        hid_set_err(err, errlen, "a combo has 1 to %d keys, not %d", HID_PLAN_MAX_COMBO_KEYS, n);
        return -EINVAL;
    }
    uint8_t usages[HID_PLAN_MAX_COMBO_KEYS];
    int plain = 0;
    for (int i = 0; i < n; i++) {
        usages[i] = keys[i] ? hid_key_by_name(keys[i]) : 0;
        if (!usages[i]) {
            hid_set_err(err, errlen, "unknown key '%s'", keys[i] ? keys[i] : "(null)");
            return -EINVAL;
        }
        for (int j = 0; j < i; j++) {
            if (usages[j] == usages[i]) {
                hid_set_err(err, errlen, "key '%s' appears twice", keys[i]);
                return -EINVAL;
            }
        }
        if (!hid_key_modifier_bit(usages[i]) && ++plain > 4) {
            hid_set_err(err, errlen, "a combo holds at most 4 keys besides modifiers");
            return -EINVAL;
        }
    }
    size_t old_n = p->n;
    struct hid_step st = {0};
    int nkeys = 0, r = 0;
    for (int i = 0; i < n && !r; i++) { /* press in order */
        uint8_t bit = hid_key_modifier_bit(usages[i]);
        if (bit)
            st.mods |= bit;
        else
            st.keys[nkeys++] = usages[i];
        r = push(p, st);
    }
    for (int i = n - 1; i >= 0 && !r; i--) { /* release in reverse */
        uint8_t bit = hid_key_modifier_bit(usages[i]);
        if (bit)
            st.mods &= (uint8_t)~bit;
        else
            st.keys[--nkeys] = 0;
        r = push(p, st);
    }
    if (r) {
        p->n = old_n;
        hid_set_err(err, errlen, "out of memory");
    }
    return r;
}

int hid_plan_combo_string(struct hid_plan *p, const char *combo, char *err, size_t errlen)
{
    char buf[256];
    if (!combo || strlen(combo) >= sizeof(buf)) {
        hid_set_err(err, errlen, "combo too long");
        return -EINVAL;
    }
    const char *keys[HID_PLAN_MAX_COMBO_KEYS + 1];
    int n = 0;
    size_t j = 0;
    for (const char *c = combo; *c; c++)
        if (!isspace((unsigned char)*c))
            buf[j++] = (char)tolower((unsigned char)*c);
    buf[j] = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
        if (n > HID_PLAN_MAX_COMBO_KEYS) {
            break;
        }
        keys[n++] = tok;
    }
    if (n == 0) {
        hid_set_err(err, errlen, "empty combo");
        return -EINVAL;
    }
    return hid_plan_combo(p, keys, n, err, errlen);
}

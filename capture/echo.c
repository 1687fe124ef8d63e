/* capture/echo: what viewers typed, for the test source to show (capture.h).
 * Written by the VNC server's thread (through app/), read by the capture
 * thread at each frame: a mutex, as keys come a few a second. */
#include <pthread.h>
#include <stdlib.h>

#include "capture/capture.h"

struct capture_echo {
    pthread_mutex_t mu;
    struct capture_echo_state st;
};

struct capture_echo *capture_echo_create(void)
{
    struct capture_echo *e = calloc(1, sizeof(*e));
    if (e)
        pthread_mutex_init(&e->mu, NULL);
    return e;
}

void capture_echo_destroy(struct capture_echo *e)
{
    if (!e)
        return;
    pthread_mutex_destroy(&e->mu);
    free(e);
}

#define KEYSYM_BACKSPACE 0xff08
#define KEYSYM_ESCAPE 0xff1b

void capture_echo_key(struct capture_echo *e, uint32_t keysym, bool down)
{
    /* a text field, as the simulated server's (tests/tools/simserver):
     * characters append, Backspace takes one back, Escape clears */
    bool text = (keysym >= 0x20 && keysym <= 0x7e) || (keysym >= 0xa0 && keysym <= 0xff);
    if (!e || !down || (!text && keysym != KEYSYM_BACKSPACE && keysym != KEYSYM_ESCAPE))
        return;
    pthread_mutex_lock(&e->mu);
    if (keysym == KEYSYM_ESCAPE) {
        e->st.len = 0;
        e->st.last = 0;
    } else if (keysym == KEYSYM_BACKSPACE) {
        e->st.len -= e->st.len > 0;
        e->st.last = 0;
    } else if (e->st.len < 0xffff) {
        e->st.len++;
        e->st.last = keysym;
    }
    e->st.generation++;
    pthread_mutex_unlock(&e->mu);
}

void capture_echo_get(struct capture_echo *e, struct capture_echo_state *out)
{
    pthread_mutex_lock(&e->mu);
    *out = e->st;
    pthread_mutex_unlock(&e->mu);
}

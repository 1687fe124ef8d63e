/* Mounting from a URL (Redfish InsertMedia, the UI's "mount from URL"):
 * download into the store, then mount. One at a time; a new one or an
 * eject does not stop a running download, it just is not mounted after. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/thread.h"
#include "vmedia/drive_internal.h"

static void *url_main(void *arg)
{
    struct vmedia_drive *d = arg;
    char name[VMEDIA_NAME_MAX + 1];
    pthread_mutex_lock(&d->lock);
    snprintf(name, sizeof(name), "%s", d->st.pending_name);
    pthread_mutex_unlock(&d->lock);
    struct vmedia_progress p;
    int r = vmedia_wait(d->store, name, &p);
    pthread_mutex_lock(&d->lock);
    char err[192] = "";
    struct vmedia_image img;
    if (atomic_load(&d->stopping)) {
        /* shutting down: not mounted now */
    } else if (vmedia_stat(d->store, name, &img) == VMEDIA_OK) {
        /* downloaded now, or already in the store (an earlier result of
         * that name may be what vmedia_wait saw) */
        if (vmedia_drive_mount_locked(d, name, d->url_mode, false, err, sizeof(err)) != VMEDIA_OK)
            snprintf(d->st.last_error, sizeof(d->st.last_error), "%s", err);
    } else {
        snprintf(d->st.last_error, sizeof(d->st.last_error), "download of %.60s failed: %.100s", name,
                 r == VMEDIA_OK && p.message[0] ? p.message : vmedia_strerror(r == VMEDIA_OK ? p.error : r));
        LOG_WARN("vmedia", "%s", d->st.last_error);
    }
    d->st.pending = false;
    d->st.pending_name[0] = 0;
    d->st.generation++;
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

int vmedia_drive_mount_url(struct vmedia_drive *d, const char *url, const char *name, enum vmedia_mode mode,
                           bool insecure, char *err, size_t errlen)
{
    char derived[VMEDIA_NAME_MAX + 1];
    if (!name || !name[0]) {
        if (vmedia_name_from_url(url, derived, sizeof(derived)) != VMEDIA_OK) {
            snprintf(err, errlen, "cannot name the image after the URL: give a name");
            return VMEDIA_E_NAME;
        }
        name = derived;
    }
    pthread_mutex_lock(&d->lock);
    if (d->st.pending) {
        pthread_mutex_unlock(&d->lock);
        snprintf(err, errlen, "%s is still being downloaded for mounting", d->st.pending_name);
        return VMEDIA_E_BUSY;
    }
    if (d->url_thread_running) { /* the previous one has finished: reap it */
        pthread_join(d->url_thread, NULL);
        d->url_thread_running = false;
    }
    struct vmedia_image img;
    int r = vmedia_stat(d->store, name, &img) == VMEDIA_OK ? VMEDIA_OK
                                                          : vmedia_download_start(d->store, url, name, insecure);
    if (r != VMEDIA_OK) {
        pthread_mutex_unlock(&d->lock);
        snprintf(err, errlen, "%s: %s", name, vmedia_strerror(r));
        return r;
    }
    d->st.pending = true;
    snprintf(d->st.pending_name, sizeof(d->st.pending_name), "%s", name);
    d->st.last_error[0] = 0;
    d->st.generation++;
    d->url_mode = mode;
    d->url_insecure = insecure;
    if (thread_start(&d->url_thread, url_main, d) != 0) {
        d->st.pending = false;
        pthread_mutex_unlock(&d->lock);
        snprintf(err, errlen, "cannot start a thread");
        return VMEDIA_E_NOMEM;
    }
    d->url_thread_running = true;
    pthread_mutex_unlock(&d->lock);
    LOG_INFO("vmedia", "%s will be mounted as %s once downloaded", name, vmedia_mode_name(mode));
    return VMEDIA_OK;
}

void vmedia_drive_url_stop(struct vmedia_drive *d)
{
    atomic_store(&d->stopping, true);
    pthread_mutex_lock(&d->lock);
    bool running = d->url_thread_running;
    char name[VMEDIA_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s", d->st.pending_name);
    pthread_mutex_unlock(&d->lock);
    if (!running)
        return;
    if (name[0])
        vmedia_download_cancel(d->store, name);
    pthread_join(d->url_thread, NULL);
    d->url_thread_running = false;
}

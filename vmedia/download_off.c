/* URL downloads in a build without libcurl (PIGLIX_WITH_CURL=OFF): uploads
 * still work; a download is refused and the log says why. */
#include "common/log.h"
#include "vmedia/vmedia_internal.h"

int vmedia_download_start(struct vmedia_store *s, const char *url, const char *name, bool insecure)
{
    LOG_WARN("vmedia", "download refused: this piglix was built without libcurl (upload the image instead)");
    return VMEDIA_E_NET;
}

int vmedia_download_cancel(struct vmedia_store *s, const char *name)
{
    return VMEDIA_E_NOTFOUND; /* no download can be running */
}

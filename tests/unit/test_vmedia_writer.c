/* vmedia's upload writer thread (vmedia/writer.c): the bytes land whole and
 * hashed; the caller's queue stays bounded and its calls return while the
 * disk is stuck; a write error (RLIMIT_FSIZE's EFBIG, a real errno from
 * write(2)) ends the upload with nothing kept and the next one works; a
 * released upload leaves nothing. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "vmedia/vmedia.h"

static char dir[64];

static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;
static int wakes;

static void on_wake(void *arg)
{
    assert_ptr_equal(arg, &wakes);
    pthread_mutex_lock(&wake_mu);
    wakes++;
    pthread_cond_broadcast(&wake_cv);
    pthread_mutex_unlock(&wake_mu);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits (at most 30 s) until the writer has ended; its state. */
static enum vmedia_state wait_end(struct vmedia_writer *w, int *err, struct vmedia_image *img)
{
    char msg[192];
    int64_t deadline = now_ms() + 30000;
    enum vmedia_state st;
    while ((st = vmedia_writer_poll(w, err, msg, sizeof(msg), img)) == VMEDIA_RUNNING && now_ms() < deadline) {
        pthread_mutex_lock(&wake_mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&wake_cv, &wake_mu, &ts);
        pthread_mutex_unlock(&wake_mu);
    }
    return st;
}

static int set_up(void **state)
{
    (void)state;
    wakes = 0;
    strcpy(dir, "/tmp/piglix-writer-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int tear_down(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static size_t count_files(const char *sub)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "ls -A '%s/%s' | wc -l", dir, sub);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    if (fscanf(p, "%zu", &n) != 1)
        n = 999;
    pclose(p);
    return n;
}

static void sha_hex(const uint8_t *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned n;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

/* Sends len bytes of data in TLS-record-sized chunks; VMEDIA_OK or the first error. */
static int push_all(struct vmedia_writer *w, const uint8_t *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        size_t n = len - off < 16384 ? len - off : 16384;
        bool room = true;
        int r = vmedia_writer_push(w, data + off, n, &room);
        if (r != VMEDIA_OK)
            return r;
        off += n;
        while (!room) {
            pthread_mutex_lock(&wake_mu);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&wake_cv, &wake_mu, &ts);
            pthread_mutex_unlock(&wake_mu);
            room = vmedia_writer_has_room(w);
        }
    }
    return VMEDIA_OK;
}

static void test_upload_whole(void **state)
{
    (void)state;
    struct vmedia_store *s = NULL;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    size_t len = 9 * 1024 * 1024 + 4321; /* more than the queue, not a whole block */
    uint8_t *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    struct vmedia_writer *w = NULL;
    assert_int_equal(vmedia_writer_begin(s, "a.iso", len, on_wake, &wakes, &w), VMEDIA_OK);
    struct vmedia_writer *dup = NULL;
    assert_int_equal(vmedia_writer_begin(s, "a.iso", 1, on_wake, &wakes, &dup), VMEDIA_E_BUSY);
    assert_int_equal(push_all(w, data, len), VMEDIA_OK);
    vmedia_writer_finish(w);
    int err = -99;
    struct vmedia_image img;
    assert_int_equal(wait_end(w, &err, &img), VMEDIA_DONE);
    assert_int_equal(err, VMEDIA_OK);
    char want[65];
    sha_hex(data, len, want);
    assert_string_equal(img.sha256, want);
    assert_int_equal(img.size, len);
    vmedia_writer_release(w);
    char path[128];
    snprintf(path, sizeof(path), "%s/a.iso", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((size_t)st.st_size, len);
    assert_int_equal(count_files(".piglix-partial"), 0);
    /* the name exists now */
    assert_int_equal(vmedia_writer_begin(s, "a.iso", 1, on_wake, &wakes, &dup), VMEDIA_E_EXISTS);
    /* fewer bytes than announced: nothing kept */
    assert_int_equal(vmedia_writer_begin(s, "short.iso", 100, on_wake, &wakes, &w), VMEDIA_OK);
    assert_int_equal(push_all(w, data, 50), VMEDIA_OK);
    vmedia_writer_finish(w);
    assert_int_equal(wait_end(w, &err, &img), VMEDIA_FAILED);
    assert_int_equal(err, VMEDIA_E_SHORT);
    vmedia_writer_release(w);
    assert_int_equal(count_files(""), 4); /* a.iso and the three hidden dirs (partial, meta, trash) */
    assert_int_equal(count_files(".piglix-partial"), 0);
    free(data);
    vmedia_store_close(s);
}

/* A disk that does not answer (the writer blocks opening a FIFO at the
 * temporary file's path): every push returns at once, and the queue stops
 * at its bound with room = false; once the disk moves, the caller is woken. */
static void test_queue_bounded_while_disk_stuck(void **state)
{
    (void)state;
    struct vmedia_store *s = NULL;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    char fifo[128];
    snprintf(fifo, sizeof(fifo), "%s/.piglix-partial/stuck.iso", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    struct vmedia_writer *w = NULL;
    assert_int_equal(vmedia_writer_begin(s, "stuck.iso", 64 << 20, on_wake, &wakes, &w), VMEDIA_OK);
    static uint8_t chunk[16384];
    size_t queued = 0;
    int64_t slowest = 0;
    bool room = true;
    while (room && queued < (64u << 20)) {
        int64_t t0 = now_ms();
        assert_int_equal(vmedia_writer_push(w, chunk, sizeof(chunk), &room), VMEDIA_OK);
        if (now_ms() - t0 > slowest)
            slowest = now_ms() - t0;
        queued += sizeof(chunk);
    }
    assert_false(room);
    assert_true(queued >= VMEDIA_WRITER_QUEUE_MAX && queued < VMEDIA_WRITER_QUEUE_MAX + sizeof(chunk) + 1);
    assert_true(slowest < 2000); /* never the stuck disk's time (forever); generous for a loaded machine */
    assert_int_equal(wakes, 0);
    /* the disk moves: read what the writer writes until it wakes us */
    int rd = open(fifo, O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    static uint8_t sink[65536];
    int64_t deadline = now_ms() + 10000;
    for (;;) {
        pthread_mutex_lock(&wake_mu);
        int seen = wakes;
        pthread_mutex_unlock(&wake_mu);
        if (seen || now_ms() > deadline)
            break;
        struct pollfd p = {.fd = rd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0 && read(rd, sink, sizeof(sink)) < 0 && errno != EAGAIN)
            break;
    }
    assert_true(wakes >= 1);
    assert_true(vmedia_writer_has_room(w));
    /* let go mid-upload: the writer cancels; the store joins it */
    vmedia_writer_release(w);
    for (ssize_t n = 1; n != 0 && now_ms() < deadline;) {
        struct pollfd p = {.fd = rd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0)
            n = read(rd, sink, sizeof(sink));
    }
    close(rd);
    vmedia_store_close(s);
    assert_int_equal(count_files(".piglix-partial"), 0);
    assert_int_equal(count_files(""), 3); /* the hidden dirs only */
}

/* write(2) fails mid-upload (EFBIG past RLIMIT_FSIZE, as EIO or ENOSPC
 * would): the upload fails with nothing kept, and once the limit is lifted
 * (the disk recovered) the next upload of the same name works. */
static void test_write_error_then_recovery(void **state)
{
    (void)state;
    struct vmedia_store *s = NULL;
    assert_int_equal(vmedia_store_open(dir, 0, &s), VMEDIA_OK);
    size_t len = 3 * 1024 * 1024;
    uint8_t *data = calloc(1, len);
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_sa;
    sigaction(SIGXFSZ, &ign, &old_sa);
    struct rlimit old_rl, rl;
    getrlimit(RLIMIT_FSIZE, &old_rl);
    rl = old_rl;
    rl.rlim_cur = 1024 * 1024;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
    struct vmedia_writer *w = NULL;
    assert_int_equal(vmedia_writer_begin(s, "b.iso", len, on_wake, &wakes, &w), VMEDIA_OK);
    int r = push_all(w, data, len);
    vmedia_writer_finish(w);
    int err = 0;
    struct vmedia_image img;
    assert_int_equal(wait_end(w, &err, &img), VMEDIA_FAILED);
    assert_int_equal(err, VMEDIA_E_IO);
    assert_true(r == VMEDIA_OK || r == VMEDIA_E_IO); /* pushes after the failure say so */
    bool room;
    assert_int_equal(vmedia_writer_push(w, data, 10, &room), VMEDIA_E_IO);
    vmedia_writer_release(w);
    assert_int_equal(count_files(".piglix-partial"), 0);
    assert_int_equal(count_files(""), 3); /* the hidden dirs only */
    setrlimit(RLIMIT_FSIZE, &old_rl);
    sigaction(SIGXFSZ, &old_sa, NULL);
    assert_int_equal(vmedia_writer_begin(s, "b.iso", len, on_wake, &wakes, &w), VMEDIA_OK);
    assert_int_equal(push_all(w, data, len), VMEDIA_OK);
    vmedia_writer_finish(w);
    assert_int_equal(wait_end(w, &err, &img), VMEDIA_DONE);
    assert_int_equal(img.size, len);
    vmedia_writer_release(w);
    free(data);
    vmedia_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upload_whole, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_queue_bounded_while_disk_stuck, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_write_error_then_recovery, set_up, tear_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

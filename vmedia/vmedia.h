/* vmedia/: virtual media. Owns the image store (a directory of ISO and disk
 * images, [vmedia] dir) and the transfers that fill it: uploads streamed
 * straight to disk and downloads from a URL. A transfer writes a temporary
 * file, hashes it (SHA-256) as it streams, and renames it into place only
 * when complete and fsynced; a failed, cancelled or abandoned transfer leaves
 * nothing behind. Thread-safe.
 *
 * Threads: each store runs one long-lived disk thread ("vmedia-disk",
 * watched by common/liveness) from open to close for the small writes a
 * caller must not wait for: the drive's mount record (newest wins: one
 * superseded before it was written is never written; the file ends as the
 * last request said) and the unlink of deleted images. Uploads write on
 * their own writer threads, downloads on theirs. No function here waits on
 * the disk thread except vmedia_store_sync and vmedia_store_close. The USB
 * mass-storage function that presents an image to the server lives beside
 * the HID gadget; it asks the store for an image's path and marks it in
 * use. */
#ifndef PIGLIX_VMEDIA_H
#define PIGLIX_VMEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMEDIA_NAME_MAX 128
#define VMEDIA_MAX_TRANSFERS 8

enum vmedia_err {
    VMEDIA_OK = 0,
    VMEDIA_E_NAME = -1,      /* invalid image name */
    VMEDIA_E_EXISTS = -2,    /* an image of that name exists */
    VMEDIA_E_NOTFOUND = -3,
    VMEDIA_E_BUSY = -4,      /* a transfer for that name runs, or the image is in use */
    VMEDIA_E_NOSPACE = -5,   /* the disk is full (HTTP 507) */
    VMEDIA_E_TOOBIG = -6,    /* over [vmedia] max_size (HTTP 413) */
    VMEDIA_E_IO = -7,
    VMEDIA_E_NET = -8,       /* download failed: the message says why */
    VMEDIA_E_CANCELLED = -9,
    VMEDIA_E_NOMEM = -10,
    VMEDIA_E_LIMIT = -11,    /* too many transfers at once */
    VMEDIA_E_SHORT = -12,    /* fewer bytes than announced */
    VMEDIA_E_UNFIT = -13,    /* the image does not fit the drive as asked (HTTP 422) */
};
const char *vmedia_strerror(int err);

struct vmedia_image {
    char name[VMEDIA_NAME_MAX + 1];
    uint64_t size;
    int64_t mtime;            /* seconds since the epoch */
    char sha256[65];          /* hex; empty when unknown (file changed behind piglix's back) */
    bool in_use;
};

enum vmedia_state { VMEDIA_RUNNING, VMEDIA_DONE, VMEDIA_FAILED, VMEDIA_CANCELLED };

struct vmedia_progress {
    char name[VMEDIA_NAME_MAX + 1];
    bool download;
    enum vmedia_state state;
    uint64_t done, total;     /* total 0: unknown */
    double rate;              /* bytes per second since the start */
    int error;                /* enum vmedia_err when failed */
    char message[192];        /* what went wrong, for people */
};

struct vmedia_store;

/* Opens (creating) the store; removes leftovers of interrupted transfers.
 * max_size 0 = no limit. */
int vmedia_store_open(const char *dir, uint64_t max_size, struct vmedia_store **out);
/* Cancels running transfers, waits for them, lets the disk thread write
 * what waits (the last mount record, deleted images' unlinks), frees. */
void vmedia_store_close(struct vmedia_store *s);
/* Blocks until the disk thread has written everything handed to it so far
 * (tests, CLI). */
void vmedia_store_sync(struct vmedia_store *s);

/* 0 when name is acceptable: 1..128 bytes of printable UTF-8/ASCII, no '/',
 * no leading '.', not "." or "..", no control characters. */
int vmedia_name_check(const char *name);

/* A store name for what url points at: its last path segment, without
 * query or fragment, with what names refuse replaced. 0 or VMEDIA_E_NAME. */
int vmedia_name_from_url(const char *url, char *out, size_t n);

/* Lists images sorted by name; *out is malloc'd (free it). */
int vmedia_list(struct vmedia_store *s, struct vmedia_image **out, size_t *n);
int vmedia_stat(struct vmedia_store *s, const char *name, struct vmedia_image *out);
/* Takes the image out of the store at once (a rename into a hidden trash
 * directory: no listing shows it, the name is free again); the store's
 * disk thread unlinks it, so the caller never waits for a large file's
 * blocks to be freed. */
int vmedia_delete(struct vmedia_store *s, const char *name);
int vmedia_rename(struct vmedia_store *s, const char *from, const char *to);
int vmedia_free_space(struct vmedia_store *s, uint64_t *free_bytes, uint64_t *total_bytes);
/* The image's path, for presenting it over USB; marks it in use (delete and
 * rename are refused) until vmedia_release(). */
int vmedia_acquire(struct vmedia_store *s, const char *name, char *path, size_t n);
void vmedia_release(struct vmedia_store *s, const char *name);

/* ---- transfers ---- */
struct vmedia_upload;
/* Starts an upload of expected bytes (0 when unknown). Refused when the name
 * exists, an upload or download of it runs, or it is over the size limit. */
int vmedia_upload_begin(struct vmedia_store *s, const char *name, uint64_t expected,
                        struct vmedia_upload **out);
/* Appends bytes. On an error the partial file is already gone; call
 * vmedia_upload_abort() to free. */
int vmedia_upload_write(struct vmedia_upload *u, const void *data, size_t len);
/* Completes: checks the length, fsyncs, renames into place. Frees u. */
int vmedia_upload_finish(struct vmedia_upload *u);
/* Drops the upload and its partial file. Frees u. why is logged. */
void vmedia_upload_abort(struct vmedia_upload *u, const char *why);

/* The same off the caller's thread (writer.c): for a caller that must never
 * wait on the disk (the web thread). A writer thread per upload creates the
 * temporary file, writes, fsyncs, renames and fsyncs the directory; the
 * caller only copies bytes into a queue of at most about
 * VMEDIA_WRITER_QUEUE_MAX bytes and stops reading its source while it is
 * full. wake(arg) is called on the writer thread (never after
 * vmedia_writer_release returned) when a caller that found the queue full
 * may go on, and when the upload ended: it must only signal (e.g.
 * lws_cancel_service), then the caller polls. */
#define VMEDIA_WRITER_QUEUE_MAX ((size_t)4 << 20)
struct vmedia_writer;
/* Checks the name, size limit and conflicts now; the disk is touched by the
 * writer. Refusals as vmedia_upload_begin. */
int vmedia_writer_begin(struct vmedia_store *s, const char *name, uint64_t expected, void (*wake)(void *arg),
                        void *arg, struct vmedia_writer **out);
/* Queues a copy of len bytes; never blocks on the disk. *room false: the
 * queue is full, stop reading until wake (then vmedia_writer_has_room).
 * VMEDIA_OK, or the upload's error once it failed (nothing is queued). */
int vmedia_writer_push(struct vmedia_writer *w, const void *data, size_t len, bool *room);
bool vmedia_writer_has_room(struct vmedia_writer *w);
/* Every byte came: the writer checks the length, fsyncs and installs. */
void vmedia_writer_finish(struct vmedia_writer *w);
/* VMEDIA_RUNNING, or how it ended: DONE (*img is the stored image), FAILED
 * or CANCELLED with *err and message (may be NULL). */
enum vmedia_state vmedia_writer_poll(struct vmedia_writer *w, int *err, char *message, size_t n,
                                     struct vmedia_image *img);
/* Lets go of w (never blocks): a running upload is cancelled and its
 * partial file removed by the writer thread, which frees w. */
void vmedia_writer_release(struct vmedia_writer *w);

/* Downloads url into the store as name in a background thread. TLS
 * certificates are verified unless insecure. */
int vmedia_download_start(struct vmedia_store *s, const char *url, const char *name, bool insecure);
int vmedia_download_cancel(struct vmedia_store *s, const char *name);

/* Where downloads may connect (url_policy.c). Checked on the address
 * libcurl is about to connect to, after DNS and on every redirect: never
 * loopback, unspecified, link-local, multicast/broadcast (or their
 * IPv4-mapped forms) nor the appliance's own addresses; private ranges only
 * when allow_private. Addresses in allow are accepted whatever their class
 * (tests serve from 127.0.0.1). */
#define VMEDIA_URL_ALLOW_MAX 8
struct vmedia_url_policy {
    bool allow_private;
    int n_allow;
    uint8_t allow[VMEDIA_URL_ALLOW_MAX][16];  /* IPv6, IPv4 as ::ffff:a.b.c.d */
};
enum vmedia_addr_class {
    VMEDIA_ADDR_PUBLIC, VMEDIA_ADDR_PRIVATE, VMEDIA_ADDR_LOOPBACK, VMEDIA_ADDR_UNSPECIFIED,
    VMEDIA_ADDR_LINK_LOCAL, VMEDIA_ADDR_MULTICAST, VMEDIA_ADDR_OWN,
};
struct sockaddr;
/* allow: IP addresses separated by commas or spaces. 0, or -1 when one is
 * not an address or there are too many. */
int vmedia_url_policy_init(struct vmedia_url_policy *p, bool allow_private, const char *allow);
/* The store's policy from now on (the default: private allowed, no exceptions). */
void vmedia_store_set_url_policy(struct vmedia_store *s, const struct vmedia_url_policy *p);
/* 0 allowed, or -1 with why naming the address and its class. */
int vmedia_url_policy_check(const struct vmedia_url_policy *p, const struct sockaddr *sa, char *why, size_t n);
enum vmedia_addr_class vmedia_addr_classify(const struct sockaddr *sa);
const char *vmedia_addr_class_name(enum vmedia_addr_class c);
/* url for logs and messages: user:password@ becomes ***@, a query ?***,
 * the fragment goes. Always NUL-terminated (truncated to n). */
void vmedia_url_redact(const char *url, char *out, size_t n);

/* Running and recently finished transfers (the last result per name stays
 * until the next transfer of that name). */
size_t vmedia_transfers(struct vmedia_store *s, struct vmedia_progress *out, size_t max);
/* Blocks until the named transfer is no longer running (tests, CLI). */
int vmedia_wait(struct vmedia_store *s, const char *name, struct vmedia_progress *out);

/* ---- the USB drive (drive*.c) ---- */
/* vmedia/vmedia_drive: the USB drive that presents a store image to the
 * server: the gadget's mass-storage function with two LUNs, a CD-ROM drive
 * (read-only) and a removable disk (a flash drive, read-only unless asked),
 * like a BMC's virtual CD and virtual USB key; one holds the medium. The
 * host reads a LUN's device type only when it scans it, so two fixed LUNs
 * let the mode change without re-enumeration. Mount, eject (forced when the
 * server holds the medium locked), swap media without re-enumerating the
 * keyboard. What is mounted
 * is remembered under [state] dir and mounted again at the next start (the
 * record is written by the store's disk thread: mount and eject return once
 * the LUN changed, never after an fsync). A
 * mounted image is marked in use in the store (no delete or rename).
 *
 * Kernel fact that shapes this: f_mass_storage (Linux 6.1) caps a CD-ROM
 * LUN at 256*60*75 - 1 blocks of 2048 bytes (about 2.2 GB) and silently
 * serves only the start of a bigger image. A bigger image asked for as a
 * CD-ROM is therefore presented as a read-only removable disk, which every
 * hybrid (isohybrid) installer ISO boots from; the status says so.
 *
 * All functions are thread-safe and never block on the USB host. */
struct config_vmedia;
struct gadget;
struct vmedia_drive;

#define VMEDIA_CD_MAX_BYTES ((uint64_t)(256 * 60 * 75 - 1) * 2048)

enum vmedia_mode { VMEDIA_MODE_CDROM, VMEDIA_MODE_FLASH };

struct vmedia_drive_status {
    bool present;             /* the mass-storage function is on the bus */
    bool mounted;
    char image[VMEDIA_NAME_MAX + 1];
    enum vmedia_mode mode;    /* as asked */
    bool as_disk;             /* a CD-ROM too big for the kernel's CD LUN, presented as a disk */
    bool rw;
    uint64_t size;
    bool host_online;         /* the host has configured the gadget */
    /* A mount that waits for a URL download (vmedia_drive_mount_url). */
    bool pending;
    char pending_name[VMEDIA_NAME_MAX + 1];
    char last_error[192];     /* why the last mount failed ("" = none) */
    uint64_t generation;      /* changes whenever anything above changes */
};

/* Adds the mass-storage function to the gadget (before it is bound; with
 * [vmedia] usb = mounted it is left out until a mount). NULL after logging. */
struct vmedia_drive *vmedia_drive_create(const struct config_vmedia *cfg, const char *state_dir, struct vmedia_store *store,
                                         struct gadget *gadget);
/* `piglix gadget up` (root): adds the mass-storage function to the gadget
 * it makes and hands the LUN's attribute files to the owner of [state] dir
 * (the daemon's user), so the unprivileged daemon can mount and eject.
 * 0 or -1 (logged). */
int vmedia_drive_gadget_up(const struct config_vmedia *cfg, const char *state_dir, struct gadget *gadget);
/* After the gadget is bound: mounts what was mounted before the restart. */
void vmedia_drive_restore(struct vmedia_drive *d);
/* Ejects (the state file keeps the mount for the next start) and frees. */
void vmedia_drive_destroy(struct vmedia_drive *d);

/* Mounts image (ejecting what was mounted first). rw only for FLASH.
 * Returns VMEDIA_OK or an enum vmedia_err; err gets a message. */
int vmedia_drive_mount(struct vmedia_drive *d, const char *image, enum vmedia_mode mode, bool rw,
                       char *err, size_t errlen);
/* Downloads url into the store as name (derived from the URL when NULL or
 * empty), then mounts it; returns at once (VMEDIA_OK: started). */
int vmedia_drive_mount_url(struct vmedia_drive *d, const char *url, const char *name,
                           enum vmedia_mode mode, bool insecure, char *err, size_t errlen);
/* Ejects. A medium the host has locked (PREVENT MEDIUM REMOVAL) is only
 * ejected with force. Returns VMEDIA_OK, VMEDIA_E_BUSY (locked, no
 * force) or another error; err says why. */
int vmedia_drive_eject(struct vmedia_drive *d, bool force, char *err, size_t errlen);
void vmedia_drive_get_status(struct vmedia_drive *d, struct vmedia_drive_status *out);

const char *vmedia_mode_name(enum vmedia_mode m);   /* "cdrom", "flash" */
int vmedia_mode_parse(const char *s);                /* -1 when unknown */

#endif

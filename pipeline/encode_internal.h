/* server/encode_internal: what the parts of the encoder share (encode.c plans
 * rectangles; encode_classify.c finds a tile's colours; encode_tight.c writes
 * Tight payloads; encode_jpeg.c makes JPEG rects, with encode_yuv.c's planar
 * conversion). Not for other modules. */
#ifndef PIGLIX_SERVER_ENCODE_INTERNAL_H
#define PIGLIX_SERVER_ENCODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <turbojpeg.h>
#include <zlib.h>

#include "common/thread.h"
#include "pipeline/encode.h"

#define ENC_TIGHT_ENCODING 7
#define ENC_TIGHT_MAX_WIDTH 2048     /* widest rect Tight clients accept */
#define ENC_TIGHT_MAX_BASIC 65536    /* most pixels in one basic-compression rect */
#define ENC_TIGHT_MIN_TO_COMPRESS 12 /* smaller data goes uncompressed */
#define ENC_PALETTE_MAX 256
/* Most colours a tile may have and still go out as a lossless palette when
 * JPEG is allowed: BIOS text, menus and UI text stay sharp, photos and video
 * bail out of the scan after a few dozen pixels. */
#define ENC_PALETTE_MAX_LOSSY 24
#define ENC_PALETTE_HASH 512         /* open addressing, at most half full */

/* Tight compression-control byte values and the zlib stream used per kind
 * (as TurboVNC assigns them; any would do, as every payload resets its stream). */
#define ENC_CTL_FILL 0x80
#define ENC_CTL_JPEG 0x90
#define ENC_CTL_EXPLICIT_FILTER 0x40
#define ENC_FILTER_COPY 0
#define ENC_FILTER_PALETTE 1
#define ENC_STREAM_COPY 0
#define ENC_STREAM_MONO 1
#define ENC_STREAM_INDEXED 2

enum enc_class {
    ENC_CLASS_UNKNOWN = 0,
    ENC_CLASS_FILL,    /* one colour */
    ENC_CLASS_PALETTE, /* ncolors colours (exact) */
    ENC_CLASS_PHOTO,   /* more than scanned colours */
};

/* What the encoder remembers about one tile of the current picture until
 * encoder_invalidate says it changed. */
struct enc_tile {
    uint8_t cls;         /* enum enc_class */
    uint8_t rgbx_fresh;  /* the RGBX copy of this tile is current */
    uint8_t yuv_fresh;   /* the planar YUV copy of this tile is current */
    uint16_t ncolors;    /* ENC_CLASS_PALETTE: exact count */
    uint16_t scanned;    /* ENC_CLASS_PHOTO: the scan stopped above this many colours */
    uint32_t fill_rgb;   /* ENC_CLASS_FILL: R | G << 8 | B << 16 */
};

/* A tile's colours as found in the source format (YUV triples or RGB), with
 * the position of each colour's first pixel so its RGB can be converted
 * exactly as pixfmt_to_rgbx converts the whole picture. */
struct enc_palette {
    unsigned n;
    uint32_t key[ENC_PALETTE_MAX];
    uint32_t rgb[ENC_PALETTE_MAX]; /* filled by enc_palette_rgb */
    uint16_t first_x[ENC_PALETTE_MAX], first_y[ENC_PALETTE_MAX];
    uint32_t hash_key[ENC_PALETTE_HASH]; /* key + 1; 0 = empty */
    uint8_t hash_index[ENC_PALETTE_HASH];
};

/* A run of tiles merged into one rect: columns c0..c1-1 from row r0 down. */
struct enc_run {
    unsigned c0, c1, r0;
    uint32_t key;
};

struct encoder {
    struct encode_settings settings;
    tjhandle tj;
    z_stream zs_indexed, zs_copy;
    bool zs_indexed_ready, zs_copy_ready;

    /* The picture the caches describe. */
    bool have_grid, have_fmt;
    struct tile_grid grid;
    enum pixfmt fmt;
    struct enc_tile *tiles;

    uint8_t *rgbx;          /* width x height x 4, converted per tile on demand */
    size_t rgbx_cap;
    uint8_t *plane[3];      /* Y, Cb, Cr in JPEG's full range, for JPEG from YUV */
    size_t plane_cap[3];
    unsigned plane_stride[3];
    uint8_t *chroma_rows;   /* two rows of Cb and Cr for 4:2:0 and grey */
    size_t chroma_rows_cap;

    /* Scratch for one rect. */
    struct enc_palette pal;
    uint8_t *index;         /* one palette index per pixel of a tile */
    size_t index_cap;
    uint8_t *raw;           /* uncompressed basic data of one rect */
    size_t raw_cap;
    uint8_t *zbuf;          /* compressed data of one rect */
    size_t zbuf_cap;
    unsigned char *jpeg;    /* tjAlloc'ed */
    unsigned long jpeg_cap;
    uint32_t *run_keys;     /* per tile, for merging */
    struct enc_run *runs;   /* two rows of runs */

    struct encode_stats stats;

    /* Parallel encoding. helper[0] is this encoder; the others are
     * scratch-only encoders (own TurboJPEG handle, zlib streams, palette and
     * buffers) that borrow this one's picture caches (tiles, rgbx, plane)
     * for the duration of one encoder_encode: each job touches only its own
     * tiles of them. */
    struct enc_pool *pool;
    unsigned nworkers;
    struct encoder *helper[ENCODE_MAX_WORKERS];
    bool is_helper;
    struct update *job_out;      /* one output per job when parallel */
    size_t job_out_cap;
    struct enc_job *jobs;        /* the fill and JPEG rects of a frame, in order */
    size_t jobs_cap, njobs;
    unsigned parallel_min_tiles, parallel_min_jpeg_pixels; /* ENC_PARALLEL_MIN_* */
    struct thread_owner owner;
};

/* A rect planned by the run merging, encoded by any worker. */
struct enc_job {
    unsigned x, y, w, h;
    uint32_t key;                /* fill colour + 1, or ENC_RUN_JPEG */
};
#define ENC_RUN_NONE 0u
#define ENC_RUN_JPEG 0x80000000u
/* Largest JPEG rect in pixels: a full-frame photo is cut into bands of tile
 * rows (1080p at tile 64: 2 rows, 9 bands), so the workers share the frame
 * while the extra JPEG headers cost ~2% of the bytes (bench_encode_workers,
 * motion 1080p: 294.6 KB a frame against 289.6 KB as one JPEG). */
#define ENC_JPEG_MAX_PIXELS (256u * 1024u)
/* Waking the workers costs more than a little work: fewer changed tiles
 * than this are classified on the calling thread, and JPEG rects of fewer
 * pixels than this in all are compressed there (about 1 ms of work each). */
#define ENC_PARALLEL_MIN_TILES 128
#define ENC_PARALLEL_MIN_JPEG_PIXELS (384u * 1024u)

static inline unsigned enc_min(unsigned a, unsigned b) { return a < b ? a : b; }

/* ---- encode_classify.c ---- */
bool enc_tile_is_solid(const struct capture_frame *pic, unsigned x, unsigned y, unsigned w,
                       unsigned h);
/* Finds the colours of the block and writes one palette index per pixel
 * (w*h bytes, row-major) to index. Returns the number of colours, or
 * max_colors + 1 as soon as there are more (index is then unusable).
 * x and w must be even for 4:2:2 formats. */
unsigned enc_palette_build(struct enc_palette *pal, const struct capture_frame *pic, unsigned x,
                           unsigned y, unsigned w, unsigned h, unsigned max_colors, uint8_t *index);
/* Fills pal->rgb for a palette built from the block at (x, y). */
void enc_palette_rgb(struct enc_palette *pal, const struct capture_frame *pic, unsigned x,
                     unsigned y);
/* The RGB of one pixel, as pixfmt_to_rgbx converts it: R | G << 8 | B << 16. */
uint32_t enc_pixel_rgb(const struct capture_frame *pic, unsigned x, unsigned y);

/* ---- encode_tight.c ---- */
int enc_tight_init(struct encoder *e);
void enc_tight_free(struct encoder *e);
/* Appends a complete Tight rect (header and payload) to out. */
int enc_tight_fill(struct encoder *e, struct update *out, unsigned x, unsigned y, unsigned w,
                   unsigned h, uint32_t rgb);
/* A palette rect of the block whose indices are in e->index (row stride
 * index_stride) and colours in e->pal. */
int enc_tight_palette(struct encoder *e, struct update *out, unsigned x, unsigned y, unsigned w,
                      unsigned h, const uint8_t *index, unsigned index_stride);
/* A copy-filter rect from RGBX pixels. */
int enc_tight_copy(struct encoder *e, struct update *out, unsigned x, unsigned y, unsigned w,
                   unsigned h, const uint8_t *rgbx, unsigned rgbx_stride);
int enc_tight_jpeg(struct encoder *e, struct update *out, unsigned x, unsigned y, unsigned w,
                   unsigned h, const uint8_t *jpeg, size_t jpeg_len);

/* ---- encode_jpeg.c ---- */
int enc_jpeg_init(struct encoder *e);
void enc_jpeg_free(struct encoder *e);
/* Compresses the block (tile-aligned) of pic and appends it as a Tight JPEG rect. */
int enc_jpeg_rect(struct encoder *e, const struct capture_frame *pic, struct update *out,
                  unsigned x, unsigned y, unsigned w, unsigned h);

/* ---- encode_yuv.c ---- */
/* Splits a row of pairs 4:2:2 pixel pairs into planes, in JPEG's full range. */
void enc_yuv422_row_to_planes(const uint8_t *src, enum pixfmt fmt, uint8_t *py, uint8_t *pu,
                              uint8_t *pv, unsigned pairs);

/* ---- encode_pool.c ---- */
/* Runs fn(ctx, worker, job) for job 0..njobs-1 on the pool's threads and the
 * caller's (worker 0 .. nthreads); returns when all are done: 0, or -1 if
 * any returned non-zero. A NULL pool runs them in order on the caller. */
typedef int (*enc_pool_fn)(void *ctx, unsigned worker, unsigned job);
struct enc_pool;
struct enc_pool *enc_pool_create(unsigned nthreads);
void enc_pool_destroy(struct enc_pool *p);
int enc_pool_run(struct enc_pool *p, unsigned njobs, enc_pool_fn fn, void *ctx);

/* ---- encode_jpeg.c ---- (buffers) */
/* Allocates the full-picture buffers JPEG rects of pic will write into, so
 * parallel jobs never reallocate them. */
int enc_jpeg_prepare(struct encoder *e, const struct capture_frame *pic);

/* ---- encode.c (tests) ---- */
/* Lowers the ENC_PARALLEL_MIN_* thresholds so small test pictures use the
 * workers too (the bytes must not change). */
void enc_set_parallel_min(struct encoder *e, unsigned tiles, unsigned jpeg_pixels);

/* ---- encode.c (caches shared with encode_jpeg.c) ---- */
/* Makes sure the RGBX copy holds the tiles in columns c0..c1-1 of rows r0..r1-1. */
int enc_rgbx_ensure(struct encoder *e, const struct capture_frame *pic, unsigned c0, unsigned c1,
                    unsigned r0, unsigned r1);

#endif

/* h264/preview.c — follows an encoder's stream (its SPS, PPS and each
 * picture's first slice header) and writes previews: a non-reference P
 * picture that shows the encoder's last picture with the changed
 * macroblocks replaced by their exact samples (I_PCM), every other
 * macroblock P_Skip. See h264.h "Previews" for why and when.
 *
 * Why it is sound (ITU-T H.264, 7.3 and 8.2):
 * - nal_ref_idc 0: the decoder shows the picture and forgets it; the
 *   encoder's next picture predicts from the encoder's own last picture,
 *   exactly as if the preview had not been there. frame_num is the last
 *   reference picture's + 1, which the encoder's next picture also carries
 *   (7.4.3); POC type 2 then orders it before that picture (8.2.1.3), type 0
 *   gets the last POC + 1 where the encoder steps by 2 or more. Two
 *   non-reference pictures in a row are not allowed with POC type 2, so a
 *   preview follows only a reference picture of the encoder.
 * - Every MV is 0: a P_Skip's prediction is 0 where a neighbour is missing
 *   or has MV 0 with reference 0, and I_PCM neighbours count as MV 0
 *   (8.4.1.1, 8.4.1.3): by induction over the picture, all P_Skips copy
 *   the reference in place.
 * - Our own PPS (an id the encoder does not use, CAVLC, one reference,
 *   deblocking off so the exact samples stay exact) rides in front of every
 *   preview, so a viewer that joined at any IDR has it.
 * Not for untrusted input, but it parses bytes: fuzz_h264_preview. */
#include <stdlib.h>
#include <string.h>

#include "h264/h264_internal.h"

/* ---- reading: RBSP bits of an escaped NAL unit ---- */

struct bit_reader {
    const uint8_t *p;
    size_t n, pos; /* pos: the next byte of p */
    unsigned zeros; /* zero bytes just read (emulation prevention) */
    uint32_t cache;
    unsigned left; /* bits in cache */
    bool bad;
};

static unsigned rd_byte(struct bit_reader *r)
{
    if (r->pos >= r->n) {
        r->bad = true;
        return 0;
    }
    uint8_t b = r->p[r->pos++];
    if (r->zeros >= 2 && b == 3) { /* emulation_prevention_three_byte */
        r->zeros = 0;
        if (r->pos >= r->n) {
            r->bad = true;
            return 0;
        }
        b = r->p[r->pos++];
    }
    r->zeros = b == 0 ? r->zeros + 1 : 0;
    return b;
}

static unsigned rd_bits(struct bit_reader *r, unsigned n)
{
    unsigned v = 0;
    while (n--) {
        if (r->left == 0) {
            r->cache = rd_byte(r);
            r->left = 8;
        }
        r->left--;
        v = v << 1 | ((r->cache >> r->left) & 1);
    }
    return v;
}

/* ue(v); more than 31 leading zeros (not a value any field here takes) is an error. */
static unsigned rd_ue(struct bit_reader *r)
{
    unsigned zeros = 0;
    while (!r->bad && rd_bits(r, 1) == 0)
        if (++zeros > 31) {
            r->bad = true;
            return 0;
        }
    return (unsigned)((1ull << zeros) - 1 + rd_bits(r, zeros));
}

/* ---- writing: NAL units, escaped as their bytes are written ---- */

struct bit_writer {
    uint8_t *p;
    size_t pos;
    unsigned acc, nacc; /* bits not yet written, MSB first */
    unsigned zeros;     /* zero bytes just written (emulation prevention) */
};

/* One RBSP byte: 0x03 goes before it after two zeros when it is <= 3 (7.4.1). */
static void wr_byte(struct bit_writer *w, uint8_t b)
{
    if (w->zeros >= 2 && b <= 3) {
        w->p[w->pos++] = 3;
        w->zeros = 0;
    }
    w->p[w->pos++] = b;
    w->zeros = b == 0 ? w->zeros + 1 : 0;
}

/* A start code and the NAL header byte head (not escaped). */
static void wr_nal_start(struct bit_writer *w, uint8_t head)
{
    static const uint8_t start[4] = {0, 0, 0, 1};
    memcpy(w->p + w->pos, start, sizeof(start));
    w->pos += sizeof(start);
    w->p[w->pos++] = head;
    w->acc = w->nacc = w->zeros = 0;
}

static void wr_bits(struct bit_writer *w, unsigned v, unsigned n)
{
    while (n--) {
        w->acc = w->acc << 1 | ((v >> n) & 1);
        if (++w->nacc == 8) {
            wr_byte(w, (uint8_t)w->acc);
            w->acc = w->nacc = 0;
        }
    }
}

static void wr_ue(struct bit_writer *w, unsigned v)
{
    unsigned bits = 0;
    for (uint64_t x = (uint64_t)v + 1; x > 1; x >>= 1)
        bits++;
    wr_bits(w, 0, bits);
    wr_bits(w, v + 1, bits + 1);
}

static void wr_align_zero(struct bit_writer *w)
{
    if (w->nacc)
        wr_bits(w, 0, 8 - w->nacc);
}

static void wr_trailing(struct bit_writer *w)
{
    wr_bits(w, 1, 1);
    wr_align_zero(w);
}

/* ---- following the encoder's stream ---- */

static bool high_profile(unsigned idc)
{
    static const unsigned with_chroma_format[] = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135};
    for (size_t i = 0; i < sizeof(with_chroma_format) / sizeof(with_chroma_format[0]); i++)
        if (idc == with_chroma_format[i])
            return true;
    return false;
}

static void parse_sps(struct h264_follow *f, struct bit_reader *r)
{
    f->sps_ok = false;
    f->slice_ok = false; /* a new sequence starts at its IDR */
    unsigned profile = rd_bits(r, 8);
    rd_bits(r, 16); /* constraint flags, level */
    unsigned id = rd_ue(r);
    if (high_profile(profile)) {
        unsigned chroma = rd_ue(r), depth_y = rd_ue(r), depth_c = rd_ue(r);
        rd_bits(r, 1);              /* qpprime_y_zero_transform_bypass */
        bool scaling = rd_bits(r, 1);
        /* I_PCM samples are 8-bit 4:2:0 here; scaling lists are not parsed. */
        if (chroma != 1 || depth_y || depth_c || scaling)
            return;
    }
    unsigned frame_num_bits = rd_ue(r) + 4, poc_type = rd_ue(r), poc_bits = 0;
    if (poc_type == 0)
        poc_bits = rd_ue(r) + 4;
    else if (poc_type != 2)
        return;
    rd_ue(r); /* max_num_ref_frames */
    rd_bits(r, 1);
    unsigned mbw = rd_ue(r) + 1, mbh = rd_ue(r) + 1;
    bool frames_only = rd_bits(r, 1);
    if (r->bad || id > 31 || frame_num_bits > 16 || poc_bits > 16 || !frames_only || mbw > 1024 ||
        mbh > 1024)
        return;
    f->sps_id = id;
    f->frame_num_bits = frame_num_bits;
    f->poc_type = poc_type;
    f->poc_bits = poc_bits;
    f->mbw = mbw;
    f->mbh = mbh;
    f->poc_step = 0;
    f->sps_ok = true;
}

static void parse_pps(struct h264_follow *f, struct bit_reader *r)
{
    unsigned id = rd_ue(r), sps = rd_ue(r);
    if (!r->bad && id < 256 && sps < 32)
        f->pps_sps[id] = (uint8_t)sps;
}

static void parse_slice(struct h264_follow *f, struct bit_reader *r, unsigned ref_idc, bool idr)
{
    unsigned first_mb = rd_ue(r);
    if (first_mb != 0 && !r->bad)
        return; /* a later slice of the same picture */
    f->slice_ok = false;
    f->after_preview = false;
    rd_ue(r); /* slice_type */
    unsigned pps = rd_ue(r);
    if (!f->sps_ok || r->bad || pps > 255 || f->pps_sps[pps] != f->sps_id)
        return;
    unsigned frame_num = rd_bits(r, f->frame_num_bits);
    if (idr)
        rd_ue(r); /* idr_pic_id */
    unsigned poc = f->poc_type == 0 ? rd_bits(r, f->poc_bits) : 0;
    if (r->bad || ref_idc == 0)
        return; /* an encoder's own non-reference picture: no preview after it */
    if (f->poc_type == 0) {
        unsigned mask = (1u << f->poc_bits) - 1;
        if (!idr && f->have_poc)
            f->poc_step = (poc - f->poc_lsb) & mask;
        f->poc_lsb = poc;
        f->have_poc = true;
    }
    f->frame_num = frame_num;
    f->slice_ok = true;
}

void h264_follow_init(struct h264_follow *f)
{
    memset(f, 0, sizeof(*f));
    memset(f->pps_sps, 0xff, sizeof(f->pps_sps));
}

void h264_follow_free(struct h264_follow *f)
{
    free(f->buf);
    h264_follow_init(f);
}

void h264_follow_note(struct h264_follow *f, const uint8_t *data, size_t size)
{
    size_t i = 0;
    while (i + 3 <= size) {
        /* The next start code (3 or 4 bytes). */
        if (!(data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1)) {
            i++;
            continue;
        }
        size_t start = i + 3, end = start;
        while (end + 3 <= size && !(data[end] == 0 && data[end + 1] == 0 && data[end + 2] <= 1))
            end++;
        if (end + 3 > size)
            end = size;
        if (start < end) {
            unsigned head = data[start], type = head & 31, ref_idc = head >> 5 & 3;
            struct bit_reader r = {.p = data + start + 1, .n = end - start - 1};
            if (head & 0x80)
                f->slice_ok = false; /* forbidden_zero_bit: not a stream to follow */
            else if (type == 7)
                parse_sps(f, &r);
            else if (type == 8)
                parse_pps(f, &r);
            else if (type == 1 || type == 5)
                parse_slice(f, &r, ref_idc, type == 5);
        }
        i = end;
    }
}

/* The lowest PPS id the encoder has not used (ours), or -1. */
static int free_pps_id(const struct h264_follow *f)
{
    for (int id = 0; id < 256; id++)
        if (f->pps_sps[id] == 0xff)
            return id;
    return -1;
}

/* One 16x16 macroblock's samples, luma then Cb and Cr, as I_PCM takes them;
 * rows and columns past the picture repeat its edge (the SPS crops them). */
static void put_pcm(struct bit_writer *w, const struct h264_picture *in, unsigned width, unsigned height,
                    unsigned mx, unsigned my)
{
    for (unsigned plane = 0; plane < 3; plane++) {
        unsigned size = plane ? 8 : 16, pw = plane ? width / 2 : width, ph = plane ? height / 2 : height;
        for (unsigned y = 0; y < size; y++) {
            unsigned sy = my * size + y < ph ? my * size + y : ph - 1;
            const uint8_t *row = in->plane[plane] + (size_t)sy * in->stride[plane];
            for (unsigned x = 0; x < size; x++) {
                unsigned sx = mx * size + x < pw ? mx * size + x : pw - 1;
                wr_byte(w, row[sx]);
            }
        }
    }
}

bool h264_follow_preview(struct h264_follow *f, const struct h264_picture *in, unsigned width,
                         unsigned height, unsigned max_mbs, struct h264_output *out)
{
    *out = (struct h264_output){0};
    if (!f->sps_ok || !f->slice_ok || f->after_preview || !in->still_mbs || width < 2 || height < 2 ||
        (width + 15) / 16 != f->mbw || (height + 15) / 16 != f->mbh)
        return false;
    if (f->poc_type == 0 && f->poc_step < 2)
        return false; /* no POC between the last picture's and the next one's */
    int pps_id = free_pps_id(f);
    if (pps_id < 0)
        return false;
    size_t n = (size_t)f->mbw * f->mbh, changed = 0;
    for (size_t i = 0; i < n; i++)
        changed += !in->still_mbs[i];
    if (changed == 0 || changed > max_mbs)
        return false;
    /* Each macroblock its 384 samples plus at most 8 bytes of skip run and
     * type; the PPS and the slice header under 64. Escaping adds at most
     * one byte in three. */
    size_t raw = 64 + changed * 392 + 16, need = raw + raw / 2 + 64;
    if (need > f->cap) {
        uint8_t *b = realloc(f->buf, need);
        if (!b)
            return false;
        f->buf = b;
        f->cap = need;
    }
    /* Our PPS: CAVLC, one reference, no weighting, QP 26, deblocking
     * control present (to turn it off). */
    struct bit_writer w = {.p = f->buf};
    wr_nal_start(&w, 0x68); /* nal_ref_idc 3, type 8 */
    wr_ue(&w, (unsigned)pps_id);
    wr_ue(&w, f->sps_id);
    wr_bits(&w, 0, 2); /* entropy_coding_mode, bottom_field_pic_order_in_frame_present */
    wr_ue(&w, 0);      /* num_slice_groups_minus1 */
    wr_ue(&w, 0);      /* num_ref_idx_l0_default_active_minus1 */
    wr_ue(&w, 0);      /* l1 */
    wr_bits(&w, 0, 3); /* weighted_pred, weighted_bipred_idc */
    wr_ue(&w, 0);      /* pic_init_qp_minus26: se(0) */
    wr_ue(&w, 0);      /* pic_init_qs_minus26 */
    wr_ue(&w, 0);      /* chroma_qp_index_offset */
    wr_bits(&w, 4, 3); /* deblocking_filter_control_present 1, constrained_intra_pred 0, redundant_pic_cnt_present 0 */
    wr_trailing(&w);

    wr_nal_start(&w, 0x01);        /* nal_ref_idc 0, type 1 */
    wr_ue(&w, 0);                  /* first_mb_in_slice */
    wr_ue(&w, 0);                  /* slice_type P */
    wr_ue(&w, (unsigned)pps_id);
    wr_bits(&w, (f->frame_num + 1) & ((1u << f->frame_num_bits) - 1), f->frame_num_bits);
    if (f->poc_type == 0)
        wr_bits(&w, (f->poc_lsb + 1) & ((1u << f->poc_bits) - 1), f->poc_bits);
    wr_bits(&w, 0, 2);             /* num_ref_idx_active_override, ref_pic_list_modification_l0 */
    /* nal_ref_idc 0: no dec_ref_pic_marking. */
    wr_ue(&w, 0);                  /* slice_qp_delta: se(0) */
    wr_ue(&w, 1);                  /* disable_deblocking_filter_idc: off */
    unsigned run = 0;
    for (unsigned my = 0; my < f->mbh; my++)
        for (unsigned mx = 0; mx < f->mbw; mx++) {
            if (in->still_mbs[my * f->mbw + mx]) {
                run++;
                continue;
            }
            wr_ue(&w, run);        /* mb_skip_run */
            run = 0;
            wr_ue(&w, 5 + 25);     /* mb_type: I_PCM in a P slice */
            wr_align_zero(&w);     /* pcm_alignment_zero_bit */
            put_pcm(&w, in, width, height, mx, my);
        }
    if (run)
        wr_ue(&w, run);
    wr_trailing(&w);
    f->after_preview = true;
    out->data = f->buf;
    out->size = w.pos;
    out->idr = false;
    return true;
}

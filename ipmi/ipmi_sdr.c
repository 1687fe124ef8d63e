#include "ipmi/ipmi_sdr.h"

#include <math.h>
#include <string.h>

static double p10(int e)
{
    double v = 1;
    for (; e > 0; e--)
        v *= 10;
    for (; e < 0; e++)
        v /= 10;
    return v;
}

double ipmi_linear_value(const struct ipmi_linear *l, uint8_t raw)
{
    return ((double)l->m * raw + l->b * p10(l->bexp)) * p10(l->rexp);
}

uint8_t ipmi_linear_raw(const struct ipmi_linear *l, double value)
{
    if (isnan(value) || l->m == 0)
        return 0;
    double x = round((value / p10(l->rexp) - l->b * p10(l->bexp)) / l->m);
    return x <= 0 ? 0 : x >= 255 ? 255 : (uint8_t)x;
}

/* An offset b = kq * step at or below lo, representable as B 10^Bexp in
 * units of 10^R with B in 10 bits; the 256 steps from there must reach hi. */
static int offset(double lo, double hi, int m, int r, struct ipmi_linear *out)
{
    double step = m * p10(r);
    double q = floor(lo / step + 1e-9);
    if (fabs(q) > 1e6)
        return -1;
    for (long kq = (long)q; kq > (long)q - 12; kq--) {
        if (kq * step + 255 * step < hi - 1e-9 * fabs(hi))
            return -1;
        long b = kq * m;
        int bexp = 0;
        while ((b > 511 || b < -512) && b % 10 == 0 && bexp < 7) {
            b /= 10;
            bexp++;
        }
        if (b <= 511 && b >= -512) {
            *out = (struct ipmi_linear){.m = m, .b = (int)b, .bexp = bexp, .rexp = r};
            return 0;
        }
    }
    return -1;
}

int ipmi_linear_choose(double lo, double hi, struct ipmi_linear *out)
{
    if (!isfinite(lo) || !isfinite(hi))
        return -1;
    if (hi <= lo)
        hi = lo + 1;
    static const int tenths[] = {10, 20, 25, 50};  /* step mantissas times ten */
    for (int k = -7; k <= 7; k++) {
        for (size_t i = 0; i < sizeof(tenths) / sizeof(tenths[0]); i++) {
            int m = tenths[i] == 25 ? 25 : tenths[i] / 10;
            int r = tenths[i] == 25 ? k - 1 : k;
            if (r < -8 || r > 7 || m * p10(r) * 255 < (hi - lo) * (1 - 1e-9))
                continue;
            if (offset(lo, hi, m, r, out) == 0)
                return 0;
        }
    }
    return -1;
}

static double finite_max(const double *v, size_t n, double dflt)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && v[i] > dflt)
            dflt = v[i];
    return dflt;
}

static double finite_min(const double *v, size_t n, double dflt)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && v[i] < dflt)
            dflt = v[i];
    return dflt;
}

/* The range a sensor's raw byte covers: its kind's usual span, widened to
 * its limits and first reading with room to move. */
static void range(const struct sensor_reading *r, double *lo, double *hi)
{
    double v[5] = {r->health == SENSOR_UNAVAILABLE ? NAN : r->value, r->lower_critical,
                   r->lower_warning, r->upper_warning, r->upper_critical};
    double top = finite_max(v, 5, 0), bottom = finite_min(v, 5, 0);
    switch (r->kind) {
    case SENSOR_TEMPERATURE:
        *hi = fmax(127.5, top * 1.25);
        *lo = bottom < 0 ? bottom * 1.25 - 10 : 0;
        break;
    case SENSOR_FAN:
        *hi = fmax(2550, top * 2);
        *lo = 0;
        break;
    case SENSOR_POWER:
        *hi = fmax(10, top * 1.5);
        *lo = bottom < 0 ? bottom * 1.5 : 0;
        break;
    default: /* voltage, current */
        *hi = fmax(1, top * 1.5);
        *lo = bottom < 0 ? bottom * 1.5 : 0;
        break;
    }
}

static uint8_t sensor_type(enum sensor_kind k)
{
    switch (k) {
    case SENSOR_TEMPERATURE: return 0x01;
    case SENSOR_VOLTAGE: return 0x02;
    case SENSOR_CURRENT: return 0x03;
    case SENSOR_FAN: return 0x04;
    case SENSOR_INTRUSION: return 0x05; /* physical security */
    default: return 0x0b;               /* other units-based sensor */
    }
}

static uint8_t base_unit(enum sensor_kind k)
{
    switch (k) {
    case SENSOR_TEMPERATURE: return 1;  /* degrees C */
    case SENSOR_VOLTAGE: return 4;
    case SENSOR_CURRENT: return 5;
    case SENSOR_POWER: return 6;
    case SENSOR_FAN: return 18;         /* RPM */
    default: return 0;
    }
}

static void thresholds(struct ipmi_sdr_sensor *s, const struct sensor_reading *r)
{
    const double lim[4] = {r->lower_warning, r->lower_critical, r->upper_warning, r->upper_critical};
    static const int slot[4] = {0, 1, 3, 4};  /* LNC, LC, UNC, UC */
    for (int i = 0; i < 4; i++) {
        if (!isfinite(lim[i]))
            continue;
        s->thr_mask |= (uint8_t)(1u << slot[i]);
        s->thr_raw[slot[i]] = ipmi_linear_raw(&s->lin, lim[i]);
    }
}

/* The Full Sensor Record (IPMI 2.0 spec 43.1), 48 bytes plus the name. */
static void build_record(struct ipmi_sdr_sensor *s, const struct sensor_reading *r)
{
    uint8_t *p = s->record;
    memset(p, 0, IPMI_SDR_RECORD_MAX);
    p[0] = s->number;
    p[2] = 0x51;                       /* SDR version */
    p[3] = 0x01;                       /* full sensor record */
    p[5] = 0x20;                       /* owner: the BMC */
    p[7] = s->number;
    p[8] = s->kind == SENSOR_INTRUSION ? 0x17 : 0x07; /* system chassis, system board */
    p[9] = s->number & 0x7f;
    p[10] = 0x41;                      /* scanning enabled (and initialised) */
    p[12] = sensor_type(s->kind);
    if (s->discrete) {
        p[11] = 0x43;                  /* auto re-arm, no thresholds, no events */
        p[13] = 0x6f;                  /* sensor-specific: bit 0 = general chassis intrusion */
        p[14] = p[16] = p[18] = 0x01;
        p[20] = 0xc0;                  /* no analog reading */
    } else {
        p[11] = s->thr_mask ? 0x47 : 0x43; /* thresholds readable */
        p[13] = 0x01;                  /* threshold */
        /* which comparisons Get Sensor Reading returns: lower in the
         * assertion mask's bits 14:12, upper in the deassertion mask's */
        p[15] = (uint8_t)(((s->thr_mask & 1) ? 0x10 : 0) | ((s->thr_mask & 2) ? 0x20 : 0));
        p[17] = (uint8_t)(((s->thr_mask & 8) ? 0x10 : 0) | ((s->thr_mask & 16) ? 0x20 : 0));
        p[18] = s->thr_mask;           /* readable; none settable */
        p[21] = base_unit(s->kind);
        p[24] = (uint8_t)(s->lin.m & 0xff);
        p[25] = (uint8_t)((s->lin.m >> 8 & 3) << 6);
        p[26] = (uint8_t)(s->lin.b & 0xff);
        p[27] = (uint8_t)((s->lin.b >> 8 & 3) << 6);
        p[29] = (uint8_t)((s->lin.rexp & 0xf) << 4 | (s->lin.bexp & 0xf));
        p[34] = 0xff;                  /* sensor maximum, minimum */
        p[36] = s->thr_raw[5];
        p[37] = s->thr_raw[4];
        p[38] = s->thr_raw[3];
        p[39] = s->thr_raw[2];
        p[40] = s->thr_raw[1];
        p[41] = s->thr_raw[0];
    }
    size_t n = 0;
    for (; n < IPMI_SDR_ID_MAX && r->name[n]; n++)
        p[48 + n] = r->name[n] >= 0x20 && r->name[n] < 0x7f ? (uint8_t)r->name[n] : '_';
    p[47] = (uint8_t)(0xc0 | n);       /* 8-bit ASCII + Latin 1 */
    s->record_len = 48 + n;
    p[4] = (uint8_t)(s->record_len - 5);
}

int ipmi_sdr_update(struct ipmi_sdr *sdr, const struct sensor_reading *r, size_t n, uint32_t now)
{
    int added = 0;
    for (size_t i = 0; i < n && sdr->n < SENSORS_MAX; i++) {
        bool known = false;
        for (int j = 0; j < sdr->n && !known; j++)
            known = strcmp(sdr->s[j].id, r[i].id) == 0;
        if (known)
            continue;
        struct ipmi_sdr_sensor *s = &sdr->s[sdr->n];
        memset(s, 0, sizeof(*s));
        snprintf(s->id, sizeof(s->id), "%s", r[i].id);
        s->number = (uint8_t)(sdr->n + 1);
        s->kind = r[i].kind;
        s->discrete = r[i].kind == SENSOR_INTRUSION;
        if (!s->discrete) {
            double lo, hi;
            range(&r[i], &lo, &hi);
            if (ipmi_linear_choose(lo, hi, &s->lin) < 0)
                ipmi_linear_choose(0, 255, &s->lin);
            thresholds(s, &r[i]);
        }
        build_record(s, &r[i]);
        sdr->n++;
        added++;
    }
    if (added)
        sdr->added = now;
    return added;
}

const struct ipmi_sdr_sensor *ipmi_sdr_record(const struct ipmi_sdr *sdr, uint16_t record_id)
{
    if (record_id == 0)
        return sdr->n ? &sdr->s[0] : NULL;
    return record_id <= sdr->n ? &sdr->s[record_id - 1] : NULL;
}

const struct ipmi_sdr_sensor *ipmi_sdr_sensor(const struct ipmi_sdr *sdr, uint8_t number)
{
    return number >= 1 && number <= sdr->n ? &sdr->s[number - 1] : NULL;
}

uint16_t ipmi_sdr_next(const struct ipmi_sdr *sdr, const struct ipmi_sdr_sensor *s)
{
    return s->number < sdr->n ? (uint16_t)(s->number + 1) : 0xffff;
}

size_t ipmi_sdr_reading(const struct ipmi_sdr_sensor *s, const struct sensor_reading *r, uint8_t *out)
{
    /* reading, flags (bit 6: scanning enabled; 5: unavailable), threshold
     * comparisons or discrete states 0-7 (the optional fourth byte is left out) */
    out[0] = 0;
    out[1] = 0x40;
    out[2] = 0;
    if (!r || r->health == SENSOR_UNAVAILABLE || !isfinite(r->value)) {
        out[1] |= 0x20;
        return 3;
    }
    if (s->discrete) {
        out[2] = r->value != 0 ? 0x01 : 0x00;
        return 3;
    }
    double v = r->value;
    out[0] = ipmi_linear_raw(&s->lin, v);
    if (isfinite(r->lower_warning) && v <= r->lower_warning)
        out[2] |= 0x01;
    if (isfinite(r->lower_critical) && v <= r->lower_critical)
        out[2] |= 0x02;
    if (isfinite(r->upper_warning) && v >= r->upper_warning)
        out[2] |= 0x08;
    if (isfinite(r->upper_critical) && v >= r->upper_critical)
        out[2] |= 0x10;
    return 3;
}

size_t ipmi_sdr_thresholds(const struct ipmi_sdr_sensor *s, uint8_t *out)
{
    out[0] = s->discrete ? 0 : s->thr_mask;
    for (int i = 0; i < 6; i++)
        out[1 + i] = s->discrete ? 0 : s->thr_raw[i];
    return 7;
}

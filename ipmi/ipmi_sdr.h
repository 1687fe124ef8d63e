/* ipmi/ipmi_sdr: the sensors (sensors/sensors.h) as IPMI sees them: one Full
 * Sensor Record (SDR type 01h) per sensor, with linear conversion factors
 * (y = (M x + B 10^Bexp) 10^R) chosen per sensor from its kind, limits and
 * first reading, and the raw bytes of Get Sensor Reading and Get Sensor
 * Thresholds. A sensor keeps its number, record and factors for the
 * daemon's life (clients cache records); a new sensor is appended and
 * dates the repository's "most recent addition". Pure functions over
 * readings: no locking, no I/O. */
#ifndef PIGLIX_WEB_IPMI_SDR_H
#define PIGLIX_WEB_IPMI_SDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/sensors.h"

#define IPMI_SDR_RECORD_MAX 64
#define IPMI_SDR_ID_MAX 16         /* the record's ID string */

/* y = (M x + B 10^Bexp) 10^R, x the raw byte (unsigned). */
struct ipmi_linear {
    int m, b;                      /* 10-bit two's complement in the record */
    int bexp, rexp;                /* 4-bit two's complement */
};

/* Factors whose 256 raw values cover [lo, hi] in steps of 1, 2, 2.5 or 5
 * times a power of ten (so round readings stay round). 0, or -1 when no
 * representable factors exist. */
int ipmi_linear_choose(double lo, double hi, struct ipmi_linear *out);
double ipmi_linear_value(const struct ipmi_linear *l, uint8_t raw);
uint8_t ipmi_linear_raw(const struct ipmi_linear *l, double value);

struct ipmi_sdr_sensor {
    char id[SENSOR_ID_MAX];
    uint8_t number;                /* 1.. (also the record id) */
    enum sensor_kind kind;
    bool discrete;                 /* intrusion: no analog reading */
    struct ipmi_linear lin;
    uint8_t thr_mask;              /* readable thresholds: bit 0 LNC, 1 LC, 3 UNC, 4 UC */
    uint8_t thr_raw[6];            /* LNC, LC, LNR, UNC, UC, UNR */
    uint8_t record[IPMI_SDR_RECORD_MAX];
    size_t record_len;
};

struct ipmi_sdr {
    struct ipmi_sdr_sensor s[SENSORS_MAX];
    int n;
    uint32_t added;                /* wall-clock seconds of the last addition */
};

/* Adds records for readings not seen before. Returns how many were added. */
int ipmi_sdr_update(struct ipmi_sdr *sdr, const struct sensor_reading *r, size_t n, uint32_t now);
/* By record id (0: the first) or sensor number; NULL when absent. */
const struct ipmi_sdr_sensor *ipmi_sdr_record(const struct ipmi_sdr *sdr, uint16_t record_id);
const struct ipmi_sdr_sensor *ipmi_sdr_sensor(const struct ipmi_sdr *sdr, uint8_t number);
/* The record id after this one, 0xffff at the end. */
uint16_t ipmi_sdr_next(const struct ipmi_sdr *sdr, const struct ipmi_sdr_sensor *s);

/* Get Sensor Reading's data (after the completion code) for a reading
 * (NULL: the sensor is gone). Returns its length (3). */
size_t ipmi_sdr_reading(const struct ipmi_sdr_sensor *s, const struct sensor_reading *r, uint8_t *out);
/* Get Sensor Thresholds' data. Returns its length. */
size_t ipmi_sdr_thresholds(const struct ipmi_sdr_sensor *s, uint8_t *out);

#endif

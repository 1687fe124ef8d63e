/* Fuzzes what audit parses: a line of the audit file (audit_parse_line, as
 * the loader reads whatever a crash left on disk) and [audit] syslog URLs.
 * A line that parses must format back to exactly the same bytes (the CRC
 * makes any other acceptance a bug); a URL that parses has a port 1-65535. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > AUDIT_LINE_MAX + 16)
        return 0;
    struct audit_event ev;
    if (audit_parse_line((const char *)data, size, &ev) == 0) {
        char back[AUDIT_LINE_MAX + 1];
        int len = audit_format_line(&ev, back, sizeof(back));
        if (len < 0 || (size_t)len != size || memcmp(back, data, size) != 0)
            abort();
    }
    uint64_t last;
    if (audit_valid_end((const char *)data, size, &last) > size)
        abort();
    char text[AUDIT_LINE_MAX + 17];
    memcpy(text, data, size);
    text[size] = '\0';
    enum audit_syslog_proto proto;
    char host[256], port[8];
    if (audit_syslog_parse_url(text, &proto, host, sizeof(host), port, sizeof(port)) == 0) {
        long p = strtol(port, NULL, 10);
        if (p < 1 || p > 65535 || !host[0])
            abort();
    }
    /* GET /api/log's filters: a time that parses formats back to the
     * same instant; kinds are a mask of known kinds. */
    int64_t ms;
    if (audit_parse_time(text, &ms) == 0 && ms < (int64_t)253402300800000) {
        char iso[40];
        int64_t back;
        audit_format_time(ms, iso, sizeof(iso));
        if (audit_parse_time(iso, &back) < 0 || back != ms)
            abort();
    }
    uint32_t mask;
    if (audit_parse_kinds(text, &mask) == 0 && (mask == 0 || mask >= (1u << AUDIT_KIND_COUNT)))
        abort();
    return 0;
}

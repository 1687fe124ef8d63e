/* The cost of one Redfish LogService page far into the audit log
 * (GET .../Log/Entries?$top=500&$skip=N), which runs on the web thread:
 * the old way, a read of the whole log per 500 records skipped (pages
 * walked with the cursor), against audit_query's skip (two reads whatever
 * N). Prints milliseconds side by side, for a log of the default size
 * ([audit] max_kb = 512, files = 4: about 19,000 records).
 * Then the newest page (GET /api/log?limit=500, the log page's first view):
 * the old audit_query (every file read oldest first, the newest 500 kept
 * in a ring; done here with audit_foreach) against today's (read from the
 * newest record back, stopping after the page).
 * Usage: bench_audit_skip [SKIP] (default 15000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit.h"

#define PAGE 500

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

/* Four files of about 500 KiB of failed logins, as a flood leaves them. */
static uint64_t fill(const char *dir)
{
    uint64_t id = 1;
    for (int k = 3; k >= 0; k--) {
        char path[300];
        snprintf(path, sizeof(path), k ? "%s/audit.log.%d" : "%s/audit.log", dir, k);
        FILE *f = fopen(path, "w");
        if (!f)
            exit(1);
        for (long size = 0; size < 500 * 1024; id++) {
            struct audit_event ev = {.id = id, .time_ms = 1796500000000 + (int64_t)id,
                                     .kind = AUDIT_LOGIN_FAILED, .iface = AUDIT_IF_WEB, .outcome = AUDIT_FAILED};
            snprintf(ev.account, sizeof(ev.account), "mallory%llu", (unsigned long long)(id % 50));
            snprintf(ev.address, sizeof(ev.address), "192.0.2.%llu", (unsigned long long)(id % 200));
            snprintf(ev.detail, sizeof(ev.detail), "wrong name or password");
            char line[AUDIT_LINE_MAX + 1];
            int n = audit_format_line(&ev, line, sizeof(line));
            if (n < 0 || fwrite(line, 1, (size_t)n, f) != (size_t)n)
                exit(1);
            size += n;
        }
        fclose(f);
        chmod(path, 0600);
    }
    return id - 1;
}

/* The old audit_query's way: every record, oldest first, the newest PAGE
 * (plus one, for the next-page cursor) kept in a ring. */
struct ring {
    struct audit_event ev[PAGE + 1];
    size_t start, n;
};

static int ring_fn(const struct audit_event *ev, void *arg)
{
    struct ring *r = arg;
    if (r->n < PAGE + 1) {
        r->ev[(r->start + r->n++) % (PAGE + 1)] = *ev;
    } else {
        r->ev[r->start] = *ev;
        r->start = (r->start + 1) % (PAGE + 1);
    }
    return 0;
}

static void newest_page(struct audit_event *evs)
{
    static struct ring r;
    printf("\nthe newest %d records, newest first\n%-6s %22s %22s\n", PAGE, "run", "whole log (old) ms",
           "newest first (new) ms");
    for (int run = 0; run < 5; run++) {
        double t0 = now_ms();
        r.start = r.n = 0;
        if (audit_foreach(ring_fn, &r) < 0)
            exit(1);
        double t1 = now_ms();
        struct audit_query q = {0};
        size_t n;
        uint64_t next;
        if (audit_query(&q, evs, PAGE, &n, &next) < 0)
            exit(1);
        double t2 = now_ms();
        /* the same page: the ring's newest PAGE, newest first */
        bool same = n == PAGE && r.n == PAGE + 1 && next == evs[PAGE - 1].id;
        for (size_t i = 0; same && i < PAGE; i++)
            same = r.ev[(r.start + r.n - 1 - i) % (PAGE + 1)].id == evs[i].id;
        printf("%-6d %22.1f %22.1f%s\n", run, t1 - t0, t2 - t1, same ? "" : "  (different pages!)");
    }
}

int main(int argc, char **argv)
{
    long skip = argc > 1 ? atol(argv[1]) : 15000;
    char dir[] = "/tmp/piglix-bench-audit-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    uint64_t records = fill(dir);
    struct config_audit cfg = {.max_kb = 512, .files = 4};
    if (audit_open(&cfg, dir, false, stderr) < 0)
        return 1;
    struct audit_event *evs = malloc(PAGE * sizeof(*evs));
    printf("%llu records, $top=%d $skip=%ld\n", (unsigned long long)records, PAGE, skip);
    printf("%-6s %22s %22s\n", "run", "pages walked (old) ms", "skip (new) ms");
    for (int run = 0; run < 5; run++) {
        double t0 = now_ms();
        struct audit_query q = {0};
        long seen = 0;
        uint64_t first_old = 0, first_new = 0;
        for (;;) { /* the old loop of rf_log_entries */
            size_t n;
            uint64_t next;
            if (audit_query(&q, evs, PAGE, &n, &next) < 0)
                return 1;
            if (seen + (long)n > skip) {
                first_old = evs[skip - seen].id;
                break;
            }
            seen += (long)n;
            if (!next)
                break;
            q.before_id = next;
        }
        double t1 = now_ms();
        struct audit_query s = {.skip = (uint64_t)skip};
        size_t n;
        uint64_t next;
        if (audit_query(&s, evs, PAGE, &n, &next) < 0)
            return 1;
        first_new = n ? evs[0].id : 0;
        double t2 = now_ms();
        printf("%-6d %22.1f %22.1f%s\n", run, t1 - t0, t2 - t1, first_old == first_new ? "" : "  (different pages!)");
    }
    newest_page(evs);
    free(evs);
    audit_close();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

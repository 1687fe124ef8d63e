/* common/statefile: atomic 0600 replacement, the side lock, change
 * detection by mtime, and the comment-skipping line reader. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/statefile.h"

static char dir[64];
static char path[128];

static int body(FILE *f, void *ctx)
{
    fprintf(f, "# a comment\n\n%s\r\nsecond\n", (const char *)ctx);
    return 0;
}

static int entries(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_write_read_changed(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/piglix-statefile-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/data", dir);

    FILE *f = NULL;
    struct stat st;
    struct timespec seen = {0};
    assert_int_equal(statefile_open(path, &f, &st, stderr), 0); /* missing: not an error */
    assert_int_equal(statefile_changed(path, &seen), 0);         /* missing = mtime {0} */

    umask(022); /* a default umask would give 0644 */
    assert_int_equal(statefile_write(path, body, "first", 0600, &seen, stderr), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(entries(), 1); /* no temporary file left */
    assert_int_equal(statefile_changed(path, &seen), 0);

    assert_int_equal(statefile_open(path, &f, &st, stderr), 1);
    assert_true(st.st_mtim.tv_sec == seen.tv_sec && st.st_mtim.tv_nsec == seen.tv_nsec);
    char line[16];
    int lineno = 0;
    assert_int_equal(statefile_next_line(f, line, sizeof(line), &lineno), 1);
    assert_string_equal(line, "first"); /* comment and blank skipped, CR LF cut */
    assert_int_equal(lineno, 3);
    assert_int_equal(statefile_next_line(f, line, sizeof(line), &lineno), 1);
    assert_string_equal(line, "second");
    assert_int_equal(statefile_next_line(f, line, sizeof(line), &lineno), 0);
    fclose(f);

    struct timespec old = {1, 0};
    assert_int_equal(statefile_changed(path, &old), 1);
    unlink(path);
    assert_int_equal(statefile_changed(path, &seen), 1); /* gone: changed too */

    /* a directory that is not there: -1 with the reason, seen untouched */
    char bad[160];
    snprintf(bad, sizeof(bad), "%s/none/data", dir);
    FILE *err = tmpfile();
    struct timespec keep = seen;
    assert_int_equal(statefile_write(bad, body, "x", 0600, &seen, err), -1);
    assert_true(keep.tv_sec == seen.tv_sec && keep.tv_nsec == seen.tv_nsec);
    rewind(err);
    char msg[256] = "";
    assert_non_null(fgets(msg, sizeof(msg), err));
    assert_non_null(strstr(msg, strerror(ENOENT)));
    fclose(err);
    rmdir(dir);
}

static void test_lock(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/piglix-statefile-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/data.lock", dir);
    int fd = statefile_lock(path, stderr);
    assert_true(fd > 0);
    int other = open(path, O_RDWR | O_CLOEXEC);
    assert_true(other >= 0);
    assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1); /* held */
    assert_int_equal(errno, EWOULDBLOCK);
    statefile_unlock(&fd);
    assert_int_equal(fd, 0);
    assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0); /* released */
    statefile_unlock(&fd); /* none held: no-op */
    close(other);
    unlink(path);
    rmdir(dir);
}

static void write_raw(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* A file cut short (empty, or its last line without its line end) is
 * refused with a reason; a whole one opens. */
static void test_torn_refused(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/piglix-statefile-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/data", dir);
    const char *torn[] = {"", "# header\nalice:x", "# hea"};
    for (size_t i = 0; i < sizeof(torn) / sizeof(torn[0]); i++) {
        write_raw(path, torn[i]);
        FILE *f = (FILE *)1, *err = tmpfile();
        struct stat st;
        assert_int_equal(statefile_open(path, &f, &st, err), -1);
        assert_null(f);
        assert_int_equal(errno, EBADMSG);
        rewind(err);
        char msg[256] = "";
        assert_non_null(fgets(msg, sizeof(msg), err));
        assert_non_null(strstr(msg, path));
        assert_non_null(strstr(msg, "refused"));
        fclose(err);
    }
    write_raw(path, "# header\nalice:x\n");
    FILE *f = NULL;
    struct stat st;
    assert_int_equal(statefile_open(path, &f, &st, NULL), 1);
    fclose(f);
    unlink(path);
    rmdir(dir);
}

/* Leftovers of a dead writer go; a live writer's temporary file (locked)
 * and names that only look alike stay. */
static void test_clean_temps(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/piglix-statefile-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char p[200];
    const char *stale[] = {"web.users.tmp-a1B2c3", "ipmi.users.tmp-ZZZZZZ"};
    const char *keep[] = {"web.users", "audit.log.1", "x.tmp-short", ".tmp-abcdef", "x.tmp-abc.ef", "live.tmp-held00"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, stale[i]);
        write_raw(p, "half");
    }
    for (size_t i = 0; i < 6; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, keep[i]);
        write_raw(p, "x\n");
    }
    /* a symlink with a temporary file's name is not followed or removed */
    snprintf(p, sizeof(p), "%s/link.tmp-qwerty", dir);
    assert_int_equal(symlink("/etc/passwd", p), 0);
    snprintf(p, sizeof(p), "%s/live.tmp-held00", dir);
    int held = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(held >= 0);
    assert_int_equal(flock(held, LOCK_EX), 0); /* as statefile_replace holds it */
    assert_int_equal(statefile_clean_temps(dir, stderr), 2);
    assert_int_equal(entries(), 6); /* 5 kept (".tmp-abcdef" is not counted) and the link */
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, stale[i]);
        assert_int_equal(access(p, F_OK), -1);
    }
    close(held); /* its writer died: now it goes too */
    assert_int_equal(statefile_clean_temps(dir, stderr), 1);
    assert_int_equal(entries(), 5);
    /* a replacement leaves no temporary file and cleans none it should not */
    snprintf(path, sizeof(path), "%s/data", dir);
    assert_int_equal(statefile_write(path, body, "x", 0600, NULL, stderr), 0);
    assert_int_equal(statefile_clean_temps(dir, stderr), 0);
    assert_int_equal(entries(), 6);
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, keep[i]);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/link.tmp-qwerty", dir);
    unlink(p);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
    snprintf(p, sizeof(p), "%s/none", dir);
    assert_int_equal(statefile_clean_temps(p, stderr), 0); /* no dir: nothing to do */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_read_changed),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_torn_refused),
        cmocka_unit_test(test_clean_temps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_read_changed),
        cmocka_unit_test(test_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

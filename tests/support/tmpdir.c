/* tests/support/tmpdir.c — see tmpdir.h. */
#define _XOPEN_SOURCE 700
#include "tests/support/tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>

/* nftw passes no context: one walk at a time (tests tear down on one thread). */
static int first_error;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    if (remove(path) != 0 && first_error == 0)
        first_error = -errno;
    return 0;
}

int test_tmpdir_remove(const char *path)
{
    first_error = 0;
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && first_error == 0)
        first_error = -errno;
    return first_error;
}

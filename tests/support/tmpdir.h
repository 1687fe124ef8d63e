/* tests/support/tmpdir: removes a test's temporary directory (made with
 * mkdtemp) and everything in it, without a shell. */
#ifndef PIGLIX_TESTS_SUPPORT_TMPDIR_H
#define PIGLIX_TESTS_SUPPORT_TMPDIR_H

/* 0, or -errno of the first entry that could not be removed (the walk goes
 * on). Symbolic links are removed, never followed. */
int test_tmpdir_remove(const char *path);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * test_outfile — client/outfile.c: a file that appears at the target while
 * the output is written is not replaced (without OUTFILE_FORCE); with it,
 * a link at the target is replaced and its target untouched; an aborted or
 * failed output leaves no temporary file; the mode is as asked.
 * (tests/integration/it_outfile.sh covers the commands that use it.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "outfile.h"

static char dir[64], target[128], other[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/wmof.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(target, sizeof target, "%s/out.txt", dir);
    snprintf(other, sizeof other, "%s/victim", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[400];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    return rmdir(dir);
}

/* Entries in dir, "." and ".." not counted. */
static int entries(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void expect_text(const char *path, const char *want)
{
    char buf[256] = {0};
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    assert_string_equal(buf, want);
}

static void test_new_file(void **state)
{
    (void)state;
    outfile_t *o = NULL;
    char why[512];
    assert_int_equal(outfile_open(target, 0600, 0, &o, why, sizeof why), WM_OK);
    assert_int_equal(fputs("hello\n", outfile_stream(o)) >= 0, 1);
    assert_int_equal(entries(), 1); /* the temporary file only */
    assert_int_equal(outfile_commit(&o, why, sizeof why), WM_OK);
    assert_null(o);
    expect_text(target, "hello\n");
    struct stat st;
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(entries(), 1);
}

/* Someone creates the name while we write: it wins, we leave nothing. */
static void test_target_appears(void **state)
{
    (void)state;
    outfile_t *o = NULL;
    char why[512];
    assert_int_equal(outfile_open(target, 0644, 0, &o, why, sizeof why), WM_OK);
    fputs("ours\n", outfile_stream(o));
    put(target, "theirs\n");
    assert_int_equal(outfile_commit(&o, why, sizeof why), WM_EEXIST);
    assert_non_null(strstr(why, "--force"));
    expect_text(target, "theirs\n");
    assert_int_equal(entries(), 1);
}

static void test_existing_refused(void **state)
{
    (void)state;
    outfile_t *o = NULL;
    char why[512];
    put(target, "old\n");
    assert_int_equal(outfile_open(target, 0644, 0, &o, why, sizeof why), WM_EEXIST);
    assert_null(o);
    assert_non_null(strstr(why, "exists"));
    expect_text(target, "old\n");
    assert_int_equal(entries(), 1);
}

static void test_force_replaces_link_not_target(void **state)
{
    (void)state;
    outfile_t *o = NULL;
    char why[512];
    put(other, "precious\n");
    assert_int_equal(symlink(other, target), 0);
    assert_int_equal(outfile_open(target, 0644, 0, &o, why, sizeof why), WM_EEXIST);
    assert_non_null(strstr(why, "symbolic link"));
    assert_int_equal(outfile_open(target, 0644, OUTFILE_FORCE, &o, why, sizeof why), WM_OK);
    fputs("new\n", outfile_stream(o));
    assert_int_equal(outfile_commit(&o, why, sizeof why), WM_OK);
    expect_text(other, "precious\n");
    expect_text(target, "new\n");
    struct stat st;
    assert_int_equal(lstat(target, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(entries(), 2);
}

static void test_abort_leaves_nothing(void **state)
{
    (void)state;
    outfile_t *o = NULL;
    char why[512];
    assert_int_equal(outfile_open(target, 0644, 0, &o, why, sizeof why), WM_OK);
    assert_true(outfile_fd(o) >= 0);
    assert_non_null(outfile_tmp_path(o));
    assert_int_equal(entries(), 1);
    outfile_abort(&o);
    assert_null(o);
    outfile_abort(&o); /* NULL is fine */
    assert_int_equal(entries(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_appears, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_force_replaces_link_not_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

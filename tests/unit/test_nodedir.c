/* SPDX-License-Identifier: MIT */
/*
 * test_nodedir — node/wm_nodedir.c: the layout `wmctl init` creates is
 * the one the config loads by default, the public keys beside the secrets
 * match them, the fork guard round-trips, the one-daemon lock is seen by
 * wmctl's check, and storage's environment files are found and removed.
 * Real files in a scratch directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wm_nodedir.h"
#include "wm_store.h"
#include "wm_testutil.h"

static void test_pub_path(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(wm_nodedir_pub_path("/n/keys/sign.key", out, sizeof out), WM_OK);
    assert_string_equal(out, "/n/keys/sign.pub");
    assert_int_equal(wm_nodedir_pub_path("/n/k", out, sizeof out), WM_OK);
    assert_string_equal(out, "/n/k.pub");
    assert_int_equal(wm_nodedir_pub_path("/n/sign.key.new", out, sizeof out), WM_OK);
    assert_string_equal(out, "/n/sign.key.new.pub");
    assert_int_equal(wm_nodedir_pub_path(".key", out, sizeof out), WM_OK);
    assert_string_equal(out, ".key.pub"); /* a name of nothing but the suffix */
    assert_int_equal(wm_nodedir_pub_path("/a/very/long/name.key", out, 8), WM_ETOOBIG);
}

/* init's layout, loaded by the config with its defaults; keys that match
 * their public halves; a second init refused. */
static void test_create_and_load(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), node[PATH_MAX], conf[PATH_MAX], why[PATH_MAX + 256];
    snprintf(node, sizeof node, "%s/node", dir);
    assert_int_equal(wm_nodedir_create(node, WM_ROLE_TOWN, "xx/town", "镇", "tcp://*:7450", NULL,
                                       NULL, conf, sizeof conf, why, sizeof why),
                     WM_OK);
    wm_config_t cfg;
    assert_int_equal(wm_config_load(conf, &cfg, why, sizeof why), WM_OK);
    char want[PATH_MAX + 32];
    snprintf(want, sizeof want, "%s/" WM_NODEDIR_SIGN_KEY, cfg.dir);
    assert_string_equal(cfg.sign_key, want);
    snprintf(want, sizeof want, "%s/" WM_NODEDIR_DATA, cfg.dir);
    assert_string_equal(cfg.data_dir, want);

    wm_signer_t *s = NULL;
    uint8_t pub[WM_PUB_BYTES], sec[WM_PUB_BYTES], cpub[WM_PUB_BYTES];
    assert_int_equal(wm_nodedir_load_signer(&cfg, &s, why, sizeof why), WM_OK);
    assert_int_equal(wm_nodedir_read_pub(cfg.sign_key, pub), WM_OK);
    assert_memory_equal(pub, wm_signer_pub(s), WM_PUB_BYTES);
    wm_signer_free(&s);
    assert_int_equal(wm_nodedir_load_curve(&cfg, sec, cpub, why, sizeof why), WM_OK);
    assert_int_equal(wm_nodedir_read_pub(cfg.curve_key, pub), WM_OK);
    assert_memory_equal(pub, cpub, WM_PUB_BYTES);
    assert_int_equal(wm_nodedir_write_pub(cfg.curve_key, cpub), WM_EEXIST);

    assert_int_equal(wm_nodedir_create(node, WM_ROLE_TOWN, "xx/town", "镇", NULL, NULL, NULL,
                                       conf, sizeof conf, why, sizeof why),
                     WM_EEXIST);
    assert_non_null(strstr(why, "already holds a node"));

    /* A missing key names its file. */
    assert_int_equal(unlink(cfg.sign_key), 0);
    assert_int_not_equal(wm_nodedir_load_signer(&cfg, &s, why, sizeof why), WM_OK);
    assert_null(s);
    assert_non_null(strstr(why, cfg.sign_key));
    tu_rmrf(dir);
    free(dir);
}

static void test_guard_lock_store(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), path[PATH_MAX];
    wm_config_t cfg = {0};
    snprintf(cfg.sign_key, sizeof cfg.sign_key, "%s/sign.key", dir);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", dir);

    /* The guard: absent, written, read back, damaged. */
    wm_guard_t g = {0}, back;
    assert_int_equal(wm_nodedir_guard_read(&cfg, &back), WM_OK);
    assert_false(back.present);
    memset(g.log_id, 0xab, sizeof g.log_id);
    g.epoch = 3;
    g.seq = 41;
    assert_int_equal(wm_nodedir_guard_path(&cfg, path, sizeof path), WM_OK);
    assert_int_equal(wm_guard_write(path, &g), WM_OK);
    assert_int_equal(wm_nodedir_guard_read(&cfg, &back), WM_OK);
    assert_true(back.present);
    assert_memory_equal(back.log_id, g.log_id, sizeof g.log_id);
    assert_int_equal(back.epoch, 3);
    assert_int_equal(back.seq, 41);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("log_id=zz\n", f);
    fclose(f);
    assert_int_equal(wm_nodedir_guard_read(&cfg, &back), WM_EDECODE);

    /* The lock: taken once, seen by wmctl's check, refused twice. */
    int fd = -1, fd2 = -1;
    char why[512];
    assert_false(wm_nodedir_locked(&cfg));
    assert_int_equal(wm_nodedir_lock(&cfg, &fd, why, sizeof why), WM_OK);
    assert_true(fd >= 0);
    assert_true(wm_nodedir_locked(&cfg));
    assert_int_equal(wm_nodedir_lock(&cfg, &fd2, why, sizeof why), WM_ESTATE);
    assert_int_equal(fd2, -1);
    assert_non_null(strstr(why, "already running"));
    close(fd);
    assert_false(wm_nodedir_locked(&cfg));

    /* Storage's files in the data directory. */
    wm_store_t *s = NULL;
    assert_false(wm_store_exists(cfg.data_dir));
    assert_int_equal(wm_store_open(cfg.data_dir, WM_STORE_NOSYNC, 0, &s), WM_OK);
    wm_store_close(&s);
    assert_true(wm_store_exists(cfg.data_dir));
    assert_int_equal(wm_store_remove(cfg.data_dir), WM_OK);
    assert_false(wm_store_exists(cfg.data_dir));
    assert_int_equal(wm_store_remove(cfg.data_dir), WM_OK); /* nothing left: fine */
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    if (wm_crypto_init() != WM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pub_path),
        cmocka_unit_test(test_create_and_load),
        cmocka_unit_test(test_guard_lock_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* A command's result directory from lock to swap, and the signals that may interrupt it:
 * SIGINT, SIGTERM and SIGHUP leave no lock file and no temporaries (docs/cli.md, "Signals").
 * The one piece of global state of the program lives here, because a signal handler can
 * reach nothing else. */
#define _POSIX_C_SOURCE 200809L
#include "cli/cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Where the command is. The handler may run in any thread (OpenMP, BLAS), so the state
 * changes by compare-and-swap: whoever moves it first decides what happens. */
enum {
    OUT_IDLE,    /* nothing of ours on disk: a signal kills at once */
    OUT_LOCKED,  /* the lock file is ours, nothing else: the handler removes it and dies */
    OUT_WRITING, /* the temporary is being written or swapped: the handler only records the
                    signal; the main thread finishes, removes what is not the result, and
                    then dies by the same signal */
    OUT_DYING    /* a handler has taken over */
};
static atomic_int g_state = OUT_IDLE;
static volatile sig_atomic_t g_pending;
static char g_lock_path[4200];

/* Die by sig with its default action (so that the parent sees the signal), from a handler:
 * sig is blocked while its handler runs and is delivered when it returns. */
static void die_by(int sig)
{
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_signal(int sig)
{
    int seen = OUT_LOCKED;
    if (atomic_compare_exchange_strong(&g_state, &seen, OUT_DYING)) {
        unlink(g_lock_path); /* we hold the lock, so the file is ours */
        die_by(sig);
        return;
    }
    if (seen == OUT_WRITING) {
        g_pending = sig;
        return;
    }
    if (seen == OUT_DYING) {
        /* another thread's handler is taking the process down */
        for (;;) pause();
    }
    die_by(sig);
}

void ab_cli_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* writes interrupted while OUT_WRITING carry on */
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        struct sigaction old;
        /* a signal ignored by whoever started us (nohup) stays ignored */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* The main thread waits here when a handler in another thread is already killing us. */
static void move_state(int from, int to)
{
    int seen = from;
    if (!atomic_compare_exchange_strong(&g_state, &seen, to))
        for (;;) pause();
}

ab_status ab_cli_output_lock(const char *dir, int quiet, ab_outdir **out, ab_error *err)
{
    /* The lock file exists from inside ab_outdir_lock on, but the handler knows it only
     * once the state is LOCKED: the signals wait (blocked) until then, so that one arriving
     * in between still removes the file (test_fault found it left behind). */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    ab_status st = ab_outdir_lock(dir, out, err);
    if (st) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return st;
    }
    snprintf(g_lock_path, sizeof g_lock_path, "%s", ab_outdir_lock_path(*out));
    atomic_signal_fence(memory_order_seq_cst);
    move_state(OUT_IDLE, OUT_LOCKED);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int stale = ab_outdir_stale_removed(*out);
    if (stale > 0 && !quiet)
        fprintf(stderr, "attnbif: removed %d stale temporar%s of an interrupted run beside %s\n", stale,
                stale > 1 ? "ies" : "y", dir);
    return AB_OK;
}

void ab_cli_output_release(ab_outdir *od)
{
    if (!od) return;
    /* IDLE before the lock goes: from here a signal kills at once, which at worst leaves a
     * lock file nobody holds (harmless: the next run takes it and removes it). */
    move_state(OUT_LOCKED, OUT_IDLE);
    ab_outdir_unlock(od);
}

ab_status ab_cli_output_write(ab_outdir *od, ab_cli_writer writer, const void *ctx, ab_error *err)
{
    move_state(OUT_LOCKED, OUT_WRITING);
    const char *tmp = NULL;
    ab_status st = ab_outdir_begin(od, &tmp, err);
    if (!st && (st = writer(tmp, ctx, err))) {
        /* the user knows the target, not our temporary: name the target in the message */
        char *at = strstr(err->msg, tmp);
        size_t tl = strlen(tmp);
        if (at) {
            char rest[AB_ERROR_MSG_MAX];
            snprintf(rest, sizeof rest, "%s", at + tl);
            snprintf(at, sizeof err->msg - (size_t)(at - err->msg), "%s%s", ab_outdir_target(od), rest);
        }
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof err->msg - used, " (nothing written: %s is as it was)", ab_outdir_target(od));
    }
    if (!st && g_pending)
        st = ab_error_set(err, AB_EIO, "interrupted by signal %d while writing; nothing written", (int)g_pending);
    if (!st) st = ab_outdir_commit(od, err);
    else ab_outdir_discard(od);
    move_state(OUT_WRITING, OUT_LOCKED);
    ab_cli_output_release(od);
    int sig = g_pending;
    if (sig) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    return st;
}

/* Tiny test harness: named checks with stated tolerances, a pass/fail tally, and helpers
 * for running the program. */
#define _GNU_SOURCE /* realpath, mount */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <math.h>
#include <string.h>
#include <stdarg.h>

int ab_check(ab_tally *t, int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", cond ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (cond) t->passed++;
    else t->failed++;
    return cond;
}

int ab_check_rel(ab_tally *t, double got, double want, double tol, double floor, const char *what)
{
    double scale = fmax(fabs(want), floor);
    double rel = fabs(got - want) / scale;
    return ab_check(t, rel <= tol && isfinite(got), "%s: got %.17g want %.17g (rel err %.2e, tol %.1e)", what, got,
                    want, rel, tol);
}

int ab_finish(const ab_tally *t)
{
    printf("%d passed, %d failed\n", t->passed, t->failed);
    return t->failed == 0 && t->passed > 0 ? 0 : 1;
}

int ab_run_program(const char *args, const char *errfile)
{
    char cmd[4096];
    const char *bin = getenv("AB_BINARY") ? getenv("AB_BINARY") : "build/attnbif";
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>%s", bin, args, errfile);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ab_slurp(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

int ab_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

double ab_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int ab_spawn(const char *const *argv, const char *errfile, const ab_spawn_opts *opts)
{
    /* absolute, so that opts->cwd does not change which program runs */
    const char *bin = getenv("AB_BINARY") ? getenv("AB_BINARY") : "build/attnbif";
    char binabs[PATH_MAX], errabs[PATH_MAX], outabs[PATH_MAX];
    if (!realpath(bin, binabs)) return -1;
    snprintf(errabs, sizeof errabs, "%s", errfile ? errfile : "/dev/null");
    snprintf(outabs, sizeof outabs, "%s", opts && opts->outfile ? opts->outfile : "/dev/null");
    char *args[64];
    int n = 0;
    args[n++] = binabs;
    for (int i = 0; argv[i] && n < 63; i++) args[n++] = (char *)argv[i];
    args[n] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid != 0) return (int)pid;
    int out = open(outabs, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(errabs, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) _exit(126);
    dup2(out, 1);
    dup2(err, 2);
    if (opts && opts->cwd && chdir(opts->cwd) != 0) _exit(126);
    if (opts && opts->set_umask) umask((mode_t)opts->umask_value);
    if (opts && opts->fsize_limit > 0) {
        struct rlimit rl = {(rlim_t)opts->fsize_limit, (rlim_t)opts->fsize_limit};
        signal(SIGXFSZ, SIG_IGN); /* kept across exec: writes fail with EFBIG instead */
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(126);
    }
    execv(binabs, args);
    _exit(127);
}

int ab_wait(int pid, double timeout)
{
    if (pid < 0) return -1;
    double end = ab_now() + timeout;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) return -1;
        if (ab_now() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -2;
        }
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

int ab_run_argv(const char *const *argv, const char *errfile, const ab_spawn_opts *opts, double timeout)
{
    return ab_wait(ab_spawn(argv, errfile, opts), timeout);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int ab_list_dir(const char *dir, char *buf, size_t cap)
{
    if (cap) buf[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) return -1;
    char *names[512];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && n < 512) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        int w = snprintf(buf + used, used < cap ? cap - used : 0, "%s%s", i ? " " : "", names[i]);
        if (w > 0) used += (size_t)w;
        if (used >= cap) used = cap ? cap - 1 : 0;
        free(names[i]);
    }
    return n;
}

static int files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = getc(fa), cb = getc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

int ab_tree_equal(const char *a, const char *b)
{
    struct stat sa, sb;
    if (lstat(a, &sa) != 0 || lstat(b, &sb) != 0) return 0;
    if (S_ISREG(sa.st_mode) && S_ISREG(sb.st_mode)) return files_equal(a, b);
    if (!S_ISDIR(sa.st_mode) || !S_ISDIR(sb.st_mode)) return 0;
    static char la[16384], lb[16384]; /* recursion is shallow; the listings are compared first */
    int na = ab_list_dir(a, la, sizeof la), nb = ab_list_dir(b, lb, sizeof lb);
    if (na != nb || strcmp(la, lb) != 0) return 0;
    char *copy = strdup(la);
    int same = copy != NULL;
    for (char *save = NULL, *name = copy ? strtok_r(copy, " ", &save) : NULL; name && same; name = strtok_r(NULL, " ", &save)) {
        char pa[PATH_MAX], pb[PATH_MAX];
        snprintf(pa, sizeof pa, "%s/%s", a, name);
        snprintf(pb, sizeof pb, "%s/%s", b, name);
        same = ab_tree_equal(pa, pb);
    }
    free(copy);
    return same;
}

void ab_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char p[PATH_MAX];
                snprintf(p, sizeof p, "%s/%s", path, e->d_name);
                ab_remove_tree(p);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

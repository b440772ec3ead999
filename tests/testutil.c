/* Tiny test harness: named checks with stated tolerances, a pass/fail tally, and helpers
 * for running the program. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <math.h>
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

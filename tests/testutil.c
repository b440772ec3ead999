/* Tiny test harness: named checks with stated tolerances, a pass/fail tally. */
#include "testutil.h"

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

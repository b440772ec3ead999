/* Tiny test harness: named checks with stated tolerances, a pass/fail tally. */
#ifndef AB_TESTUTIL_H
#define AB_TESTUTIL_H

#include <stdio.h>

typedef struct {
    int passed, failed;
} ab_tally;

/* Record one check; prints a line either way. Returns cond. */
int ab_check(ab_tally *t, int cond, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* |got - want| <= tol * max(|want|, floor): relative with an absolute floor. */
int ab_check_rel(ab_tally *t, double got, double want, double tol, double floor, const char *what);

/* Run the attnbif program ($AB_BINARY, else build/attnbif) with args, stdout discarded,
 * stderr into errfile; returns its exit code (-1 if it did not exit normally). */
int ab_run_program(const char *args, const char *errfile);
/* Read a whole (small) file into buf; "" if it cannot be read. */
void ab_slurp(const char *path, char *buf, size_t cap);
int ab_exists(const char *path);

/* Print "N passed, M failed" and return the process exit status. */
int ab_finish(const ab_tally *t);

#endif

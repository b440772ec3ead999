/* Progress bar with ETA on a terminal, periodic lines otherwise. */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ab_progress {
    FILE *out;
    int tty;
    char label[96];
    double start, last_print, last_fraction;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

ab_progress *ab_progress_create(const char *label, FILE *out)
{
    ab_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->out = out;
    p->tty = out && isatty(fileno(out));
    snprintf(p->label, sizeof p->label, "%s", label);
    p->start = p->last_print = now();
    return p;
}

void ab_progress_update(ab_progress *p, double fraction)
{
    if (!p || !p->out) return;
    double t = now();
    /* Not a terminal: a line every 5 s, and none at 100% (finish reports the end). */
    if (!p->tty && fraction >= 1.0) return;
    if (fraction < 1.0 && t - p->last_print < (p->tty ? 0.2 : 5.0)) return;
    if (fraction < 0.0) fraction = 0.0;
    if (fraction > 1.0) fraction = 1.0;
    double elapsed = t - p->start, eta = fraction > 0.0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
    if (p->tty) {
        char bar[31];
        int filled = (int)(fraction * 30.0);
        for (int i = 0; i < 30; i++) bar[i] = i < filled ? '#' : '.';
        bar[30] = '\0';
        fprintf(p->out, "\r%s [%s] %3.0f%%  ETA %5.0fs ", p->label, bar, 100.0 * fraction, eta);
    } else {
        fprintf(p->out, "%s: %3.0f%%, elapsed %.0fs, ETA %.0fs\n", p->label, 100.0 * fraction, elapsed, eta);
    }
    fflush(p->out);
    p->last_print = t;
    p->last_fraction = fraction;
}

void ab_progress_finish(ab_progress *p)
{
    if (!p) return;
    if (p->out) {
        if (p->tty) fprintf(p->out, "\r%s: done in %.1fs%40s\n", p->label, now() - p->start, "");
        else fprintf(p->out, "%s: done in %.1fs\n", p->label, now() - p->start);
    }
    free(p);
}

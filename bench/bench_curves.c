/* Benchmark: curves in (kappa, beta) on problems/usa-d3-phase-diagram.yaml (the default USA
 * problem with a two_parameter section). Times, as medians of repeated runs in this
 * process: the one-parameter diagram (the reference), the whole phase diagram (every curve
 * of the run's special points), and the 1-cluster fold curve alone (no Maxwell curve,
 * 70 steps up in beta, and down to the degenerate pitchfork: about 100 points); each also
 * as a ratio to the one-parameter diagram. */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/continuation.h"
#include "attnbif/curves.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define REPEATS 5

int main(int argc, char **argv)
{
    ab_init();
    const char *path = argc > 1 ? argv[1] : "problems/usa-d3-phase-diagram.yaml";
    ab_spec spec;
    ab_error err = {0};
    if (ab_spec_load(path, &spec, &err)) { fprintf(stderr, "%s\n", err.msg); return 2; }
    double t_run[REPEATS], t_all[REPEATS], t_fold[REPEATS];
    int n_curves = 0, n_rows = 0, fold_rows = 0;
    for (int r = 0; r < REPEATS; r++) {
        ab_diagram d;
        double t0 = now();
        if (ab_run_diagram(&spec, &(ab_run_opts){NULL}, &d, &err)) { fprintf(stderr, "%s\n", err.msg); return 3; }
        t_run[r] = now() - t0;
        ab_curve_set set;
        t0 = now();
        if (ab_curves_follow(&spec, &d, NULL, &set, &err)) { fprintf(stderr, "%s\n", err.msg); return 3; }
        t_all[r] = now() - t0;
        n_curves = set.n_curves;
        n_rows = 0;
        for (int c = 0; c < set.n_curves; c++) n_rows += set.curves[c].n_rows;
        ab_curve_set_free(&set);
        /* one fold curve of ~100 points: only folds, 50 steps each way from the first fold */
        ab_spec one = spec;
        one.two_parameter.follow_pitchfork = one.two_parameter.follow_transcritical = 0;
        one.two_parameter.maxwell = 0;
        one.two_parameter.max_steps = 70;
        one.two_parameter.max = 12.0;
        /* only the 1-cluster fold (the fold of largest r) */
        int keep = -1;
        for (int i = 0; i < d.n_special; i++)
            if (d.special[i].type == AB_SP_FOLD && (keep < 0 || d.special[i].r > d.special[keep].r)) keep = i;
        for (int i = 0; i < d.n_special; i++)
            if (d.special[i].type == AB_SP_FOLD && i != keep) d.special[i].type = AB_SP_END;
        t0 = now();
        if (ab_curves_follow(&one, &d, NULL, &set, &err)) { fprintf(stderr, "%s\n", err.msg); return 3; }
        t_fold[r] = now() - t0;
        fold_rows = set.n_curves > 0 ? set.curves[0].n_rows : 0;
        ab_curve_set_free(&set);
        ab_diagram_free(&d);
    }
    qsort(t_run, REPEATS, sizeof(double), cmp);
    qsort(t_all, REPEATS, sizeof(double), cmp);
    qsort(t_fold, REPEATS, sizeof(double), cmp);
    const double m_run = t_run[REPEATS / 2], m_all = t_all[REPEATS / 2], m_fold = t_fold[REPEATS / 2];
    printf("problem: %s (%d nodes), medians of %d runs\n", path, spec.disc.nodes, REPEATS);
    printf("one-parameter diagram (reference):        %8.3f s\n", m_run);
    printf("phase diagram (%d curves, %d points):      %8.3f s  = %.2f x the diagram\n", n_curves, n_rows, m_all,
           m_all / m_run);
    printf("fold curve of %d points:                   %8.3f s  = %.2f x the diagram (%.1f ms per point)\n", fold_rows,
           m_fold, m_fold / m_run, 1e3 * m_fold / fold_rows);
    return 0;
}

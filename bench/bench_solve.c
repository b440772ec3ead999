/* Benchmark (issue 2): stationary solve + full spectrum of sectors 0-3 (SA, d = 3, beta = 4,
 * kappa = 0.1, the 1-cluster) at 64, 128, 256 nodes, attnbif against the straightforward
 * reference of bench/ref_zonal.c in the same process; prints a Markdown table. */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/results.h"
#include "ref_zonal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_REPS 11
#define SECTORS 4
#define TOP 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Reference solve + all eigenvalues of sectors 0..SECTORS-1 (re/im: SECTORS x n, counts);
 * the timed unit of work. Returns the handle (caller frees) or NULL. */
static ref_zonal *run_reference(int n, ref_zonal_state *rs, double *re, double *im, int *counts, double *t_solve)
{
    double t0 = now();
    ref_zonal *R = ref_zonal_solve(1, 3, 4.0, 0.1, n, rs);
    *t_solve = now() - t0;
    for (int m = 0; R && m < SECTORS; m++)
        if (!ref_zonal_sector(R, m, re + (size_t)m * n, im + (size_t)m * n, counts + m)) {
            ref_zonal_free(R);
            return NULL;
        }
    return R;
}

/* Largest |difference| over the TOP rightmost stability eigenvalues of each sector. The
 * reference lists the mass (sector 0) and rotation (sector 1) zeros among its eigenvalues:
 * drop the one nearest 0 there, as the library labels them MASS / SYMMETRY. */
static double eig_diff(const ab_solve_result *res, const double *re, const double *im, const int *counts, int n)
{
    double diff = 0.0;
    for (int m = 0; m < SECTORS; m++) {
        const double *r = re + (size_t)m * n, *c = im + (size_t)m * n;
        int skip = -1;
        if (m <= 1) {
            skip = 0;
            for (int i = 1; i < counts[m]; i++)
                if (fabs(r[i]) < fabs(r[skip])) skip = i;
        }
        int j = 0, found = 0;
        for (int i = 0; i < res->spectrum.count && found < TOP; i++) {
            const ab_eigenvalue *e = &res->spectrum.values[i];
            if (e->sector != m || e->kind != AB_EIG_STABILITY) continue;
            if (j == skip) j++;
            if (j >= counts[m]) return INFINITY;
            diff = fmax(diff, hypot(e->re - r[j], e->im - c[j]));
            j++;
            found++;
        }
        if (found < TOP) return INFINITY;
    }
    return diff;
}

int main(void)
{
    ab_init();
    const int sizes[3] = {64, 128, 256};
    printf("SA, d = 3, beta = 4, kappa = 0.1, 1-cluster; solve + all eigenvalues of sectors 0-3; median wall time\n\n");
    printf("| nodes | runs | attnbif [s] | reference [s] (solve + spectrum) | ratio | abs diff r | max abs diff, top %d stability eigenvalues per sector |\n", TOP);
    printf("|---|---|---|---|---|---|---|\n");
    for (int q = 0; q < 3; q++) {
        const int n = sizes[q], reps = n == 64 ? MAX_REPS : (n == 128 ? 7 : 3);
        char yaml[256];
        snprintf(yaml, sizeof yaml,
                 "model: SA\nd: 3\nbeta: 4\nkappa: 0.1\ndiscretization: {type: zonal, nodes: %d}\n"
                 "state: {type: cluster}\neigen: {sectors: [0, 1, 2, 3]}\n", n);
        ab_spec spec;
        ab_error err = {0};
        if (ab_spec_parse_string(yaml, "bench.yaml", &spec, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
        double t_ours[MAX_REPS], t_ref[MAX_REPS], t_ref_solve[MAX_REPS], diff_r = 0.0, diff_e = 0.0;
        double *re = malloc(sizeof(double) * SECTORS * n), *im = malloc(sizeof(double) * SECTORS * n);
        int counts[SECTORS];
        for (int k = 0; k < reps; k++) {
            ab_solve_result res;
            double t0 = now();
            if (ab_solve_problem(&spec, NULL, NULL, &res, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
            t_ours[k] = now() - t0;
            ref_zonal_state rs;
            t0 = now();
            ref_zonal *R = run_reference(n, &rs, re, im, counts, &t_ref_solve[k]);
            t_ref[k] = now() - t0;
            if (!R) { fprintf(stderr, "reference failed at %d nodes\n", n); return 1; }
            if (k == 0) { /* the agreement, outside the timed regions */
                diff_r = fabs(res.obs.r - rs.r);
                diff_e = eig_diff(&res, re, im, counts, n);
            }
            ref_zonal_free(R);
            ab_solve_result_free(&res);
        }
        double a = median(t_ours, reps), b = median(t_ref, reps), bs = median(t_ref_solve, reps);
        printf("| %d | %d | %.4f | %.3f (%.3f + %.3f) | %.1f | %.1e | %.1e |\n", n, reps, a, b, bs, b - bs, b / a, diff_r,
               diff_e);
        fflush(stdout);
        free(re);
        free(im);
    }
    return 0;
}

/* Benchmark: stationary solve + full spectrum of sectors 0-3 (SA, d = 3, beta = 4,
 * kappa = 0.1, the 1-cluster) for 64, 128 and 256 nodes, attnbif against the
 * straightforward reference of bench/ref_zonal.c in the same process. */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/results.h"
#include "ref_zonal.h"

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
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

int main(void)
{
    ab_init();
    const int sizes[3] = {64, 128, 256};
    printf("SA, d = 3, beta = 4, kappa = 0.1, 1-cluster; solve + all eigenvalues of sectors 0-3; median of the runs\n\n");
    printf("| nodes | attnbif [s] | reference [s] | ratio | abs diff r | max rel diff, top 3 eigenvalues of sectors 0, 2, 3 |\n");
    printf("|---|---|---|---|---|---|\n");
    for (int q = 0; q < 3; q++) {
        int n = sizes[q], reps = n <= 128 ? 5 : 3;
        char yaml[256];
        snprintf(yaml, sizeof yaml,
                 "model: SA\nd: 3\nbeta: 4\nkappa: 0.1\ndiscretization: {nodes: %d}\nstate: {type: cluster}\n"
                 "eigen: {sectors: [0, 1, 2, 3]}\n", n);
        ab_spec spec;
        ab_error err = {0};
        ab_spec_parse_string(yaml, "bench.yaml", &spec, &err);
        double t_ours[5], t_ref[5], diff_r = 0.0, diff_e = 0.0;
        for (int k = 0; k < reps; k++) {
            ab_solve_result res;
            double t0 = now();
            if (ab_solve_problem(&spec, NULL, NULL, &res, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
            t_ours[k] = now() - t0;
            t0 = now();
            ref_zonal_state rs;
            ref_zonal *R = ref_zonal_solve(1, 3, 4.0, 0.1, n, &rs);
            double *re = malloc(sizeof(double) * n), *im = malloc(sizeof(double) * n);
            int count, ok = R != NULL;
            for (int m = 0; m < 4 && ok; m++) {
                ok = ref_zonal_sector(R, m, re, im, &count);
                if (k == 0 && m != 1 && ok) {
                    int j = 0, found = 0;
                    for (int i = 0; i < res.spectrum.count && found < 3; i++) {
                        const ab_eigenvalue *e = &res.spectrum.values[i];
                        if (e->sector != m || e->kind != AB_EIG_STABILITY) continue;
                        while (j < count && fabs(re[j]) < 1e-6) j++;
                        diff_e = fmax(diff_e, fabs(e->re - re[j]) / fmax(1.0, fabs(e->re)));
                        j++;
                        found++;
                    }
                }
            }
            t_ref[k] = now() - t0;
            if (!ok) { fprintf(stderr, "reference failed at %d nodes\n", n); return 1; }
            if (k == 0) diff_r = fabs(res.obs.r - rs.r);
            free(re); free(im);
            ref_zonal_free(R);
            ab_solve_result_free(&res);
        }
        double a = median(t_ours, reps), b = median(t_ref, reps);
        printf("| %d | %.4f | %.3f | %.0f | %.1e | %.1e |\n", n, a, b, b / a, diff_r, diff_e);
        fflush(stdout);
    }
    return 0;
}

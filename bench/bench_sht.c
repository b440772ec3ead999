/* Benchmark (issue 10): spherical harmonic transforms (src/disc/sht.h) at several degrees:
 * create, analysis + synthesis, gradient, and the direct O(L^2)-per-point sum (ab_sht_eval at
 * every grid point) as the reference the FFT path is compared with. docs/benchmarks.md has
 * the results.
 *
 *   bench_sht [OVERSAMPLE [L...]]   OVERSAMPLE 1: nlat = L + 1, nlon = 2 L + 2 (default);
 *                                   1.5: the spectrum's grid, 3/2 of each */
#define _POSIX_C_SOURCE 200809L
#include "disc/sht.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAMPLES 5         /* medians of this many samples */
#define SAMPLE_SECONDS 0.05 /* each sample repeats the operation for at least this long */
#define DIRECT_MAX_L 64   /* the direct sum is O(L^4): only up to this degree */

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

static void die(const char *what, const ab_error *err)
{
    fprintf(stderr, "bench_sht: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

enum { OP_ROUND_TRIP, OP_GRAD, OP_DIRECT };

static void run_op(ab_sht *s, int op, double *c, double *f, double *g)
{
    ab_error err = {0};
    ab_status st = AB_OK;
    switch (op) {
    case OP_ROUND_TRIP:
        st = ab_sht_analysis(s, f, c, &err);
        if (st == AB_OK) st = ab_sht_synthesis(s, c, f, &err);
        break;
    case OP_GRAD: st = ab_sht_synthesis_grad(s, c, f, g, &err); break;
    default: st = ab_sht_eval(s, c, ab_sht_npoints(s), ab_sht_points(s), g, &err); break;
    }
    if (st != AB_OK) die("transform", &err);
}

/* median seconds per operation */
static double time_op(ab_sht *s, int op, double *c, double *f, double *g)
{
    double t[SAMPLES];
    for (int k = 0; k < SAMPLES; k++) {
        long reps = 0;
        const double t0 = now();
        double t1;
        do {
            run_op(s, op, c, f, g);
            reps++;
            t1 = now();
        } while (t1 - t0 < SAMPLE_SECONDS);
        t[k] = (t1 - t0) / (double)reps;
    }
    qsort(t, SAMPLES, sizeof *t, cmp);
    return t[SAMPLES / 2];
}

int main(int argc, char **argv)
{
    ab_init();
    const double over = argc > 1 ? atof(argv[1]) : 1.0;
    int Ls[16] = {16, 32, 64, 128, 256}, nL = 5;
    if (argc > 2) {
        nL = 0;
        for (int k = 2; k < argc && nL < 16; k++) Ls[nL++] = atoi(argv[k]);
    }
    printf("%5s %11s %10s %10s %10s %14s %10s %12s %10s\n", "L", "grid", "create_ms", "an+syn_ms", "grad_ms",
           "ns/(pt*(L+1))", "direct_ms", "direct/syn", "tables_MB");
    for (int k = 0; k < nL; k++) {
        const int L = Ls[k];
        const int nlat = over > 1.0 ? (int)ceil(over * (L + 1)) : L + 1;
        const int nlon = over > 1.0 ? (int)ceil(over * (2 * L + 2)) : 2 * L + 2;
        ab_sht *s = NULL;
        ab_error err = {0};
        double t0 = now();
        if (ab_sht_create(L, nlat, nlon, &s, &err) != AB_OK) die("create", &err);
        const double tc = now() - t0;
        const size_t nc = ab_sht_ncoeffs(s), np = ab_sht_npoints(s);
        double *c = malloc(nc * sizeof *c), *f = malloc(np * sizeof *f), *g = malloc(np * sizeof *g);
        srand(1);
        for (size_t q = 0; q < nc; q++) c[q] = 2.0 * rand() / RAND_MAX - 1.0;
        if (ab_sht_synthesis(s, c, f, &err) != AB_OK) die("synthesis", &err);
        const double trt = time_op(s, OP_ROUND_TRIP, c, f, g);
        const double tg = time_op(s, OP_GRAD, c, f, g);
        double td = NAN, ts = NAN;
        if (L <= DIRECT_MAX_L) {
            td = time_op(s, OP_DIRECT, c, f, g);
            /* synthesis alone, for the ratio: about half the round trip; timed as such */
            double tt[SAMPLES];
            for (int r = 0; r < SAMPLES; r++) {
                long reps = 0;
                const double a = now();
                double b;
                do {
                    if (ab_sht_synthesis(s, c, f, &err) != AB_OK) die("synthesis", &err);
                    reps++;
                    b = now();
                } while (b - a < SAMPLE_SECONDS);
                tt[r] = (b - a) / (double)reps;
            }
            qsort(tt, SAMPLES, sizeof *tt, cmp);
            ts = tt[SAMPLES / 2];
        }
        const int nh = (ab_sht_nlat(s) + 1) / 2;
        const double mb = 2.0 * nh * (double)(L + 1) * (L + 2) / 2.0 * 8.0 / 1048576.0;
        char grid[32];
        snprintf(grid, sizeof grid, "%dx%d", ab_sht_nlat(s), ab_sht_nlon(s));
        printf("%5d %11s %10.2f %10.3f %10.3f %14.2f %10.3f %12.1f %10.1f\n", L, grid, 1e3 * tc, 1e3 * trt, 1e3 * tg,
               1e9 * trt / ((double)np * (L + 1)), 1e3 * td, td / ts, mb);
        fflush(stdout);
        free(c); free(f); free(g);
        ab_sht_destroy(s);
    }
    return 0;
}

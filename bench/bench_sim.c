/* Benchmark: particle steps per second for n = 256, 1024, 4096 at d = 3 with 1 and 2
 * threads, and the O(n^2) drift against the vectorised reference (bench/ref_sim.c) on the
 * same configuration; also checks that the two drifts agree. `bench_sim weak [T]` instead
 * measures the integrator's weak error in dt on the exact n = 2 law (docs/simulation.md). */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/sim.h"
#include "ref_sim.h"
#include "sim/particles.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Bias of E[q] against the exact n = 2 mean (SA, d = 3, beta = 2, kappa = 0.5) for dt * rate
 * from 0.8 down to 0.1, driving the integrator directly so that it can step beyond the
 * largest dt the program admits. The standard error (replica spread) is ~3e-4 at T = 6400,
 * small enough to resolve the first-order bias down to dt * rate = 0.1. */
static int weak_error(double t_measure)
{
    ab_model m = {AB_MODEL_SA, 3, 2.0};
    const double kappa = 0.5;
    double exact;
    ab_error err = {0};
    if (ab_pair_overlap_law(m.kind, m.d, m.beta, kappa, 2, &exact, NULL, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    ab_sim_spec s = {0};
    s.attention = 1;
    s.independent_noise = 1;
    const double rate = ab_sim_rate(m.kind, m.d, m.beta, kappa, &s);
    const int R = 512;
    printf("SA, d = 3, beta = 2, kappa = 0.5, n = 2: exact E[q] = %.6f, rate = %.3g; %d replicas x %g time units\n\n",
           exact, rate, R, t_measure);
    printf("| dt | dt * rate | E[q] simulated | standard error | bias | bias / dt |\n|---|---|---|---|---|---|\n");
    const double dts[4] = {0.16, 0.08, 0.04, 0.02};
    for (int i = 0; i < 4; i++) {
        double dt = dts[i], sum = 0.0, sum2 = 0.0;
        long steps = (long)(t_measure / dt), burn = (long)(5.0 / dt);
#pragma omp parallel for reduction(+ : sum, sum2) schedule(dynamic)
        for (int k = 0; k < R; k++) {
            ab_particles p;
            ab_error e = {0};
            if (ab_particles_init(&p, &m, kappa, 2, &s, dt, 7919UL * (unsigned long)(i + 1) * 100000UL + (unsigned long)k, &e))
                continue;
            double acc = 0.0;
            for (long t = 0; t < burn + steps; t++) {
                ab_particles_step(&p);
                if (t >= burn) acc += p.X[0] * p.X[3] + p.X[1] * p.X[4] + p.X[2] * p.X[5];
            }
            acc /= steps;
            sum += acc;
            sum2 += acc * acc;
            ab_particles_free(&p);
        }
        double mean = sum / R, se = sqrt((sum2 / R - mean * mean) / (R - 1));
        printf("| %.3f | %.2f | %.5f | %.5f | %+.5f | %+.3f |\n", dt, dt * rate, mean, se, mean - exact, (mean - exact) / dt);
        fflush(stdout);
    }
    return 0;
}

/* Vector exp throughput: the floor of any implementation of the drift (one exp per pair). */
#if defined(__GLIBC__) && defined(__x86_64__) && defined(_OPENMP)
#pragma omp declare simd notinbranch
extern double exp(double);
__attribute__((target_clones("default", "avx2", "avx512f")))
#endif
static void exp_block(int count, const double *x, double *y)
{
#pragma omp simd
    for (int k = 0; k < count; k++) y[k] = exp(x[k]);
}

/* Median over 5 trials of the seconds per call of one of the three timed operations. */
typedef enum { OURS, REFERENCE, STEP } what;
static double time_op(what op, ab_particles *p, double *V2, double *G, int reps)
{
    double t[5];
    for (int trial = 0; trial < 5; trial++) {
        double t0 = now();
        for (int k = 0; k < reps; k++) {
            if (op == OURS) ab_attention_drift(AB_MODEL_SA, p->n, p->d, p->beta, p->X, p->XT, p->V);
            else if (op == REFERENCE) ref_sim_drift(1, p->n, p->d, p->beta, p->X, V2, G);
            else ab_particles_step(p);
        }
        t[trial] = (now() - t0) / reps;
    }
    for (int a = 1; a < 5; a++) /* insertion sort */
        for (int b = a; b > 0 && t[b] < t[b - 1]; b--) { double x = t[b]; t[b] = t[b - 1]; t[b - 1] = x; }
    return t[2];
}

int main(int argc, char **argv)
{
    ab_init();
    if (argc > 1 && strcmp(argv[1], "weak") == 0) return weak_error(argc > 2 ? atof(argv[2]) : 6400.0);
    const int sizes[3] = {256, 1024, 4096}, d = 3;
    const double beta = 4.0;
    /* exp alone, single thread, on arguments in the SA range [-2 beta, 0] */
    enum { NE = 4096 };
    static double xe[NE], ye[NE];
    for (int k = 0; k < NE; k++) xe[k] = -2.0 * beta * k / NE;
    omp_set_num_threads(1);
    double te = now();
    for (int r = 0; r < 20000; r++) exp_block(NE, xe, ye);
    const double t_vexp = (now() - te) / (20000.0 * NE);
    te = now();
    double chk = 0.0;
    for (int r = 0; r < 2000; r++)
        for (int k = 0; k < NE; k++) chk += exp(xe[k] + 1e-9 * r);
    const double t_sexp = (now() - te) / (2000.0 * NE);
    printf("exp alone, one thread: vector (libmvec) %.3f ns per value, scalar libm %.3f ns (checksum %.3f)\n\n",
           1e9 * t_vexp, 1e9 * t_sexp, chk + ye[NE - 1]);
    printf("SA, d = 3, beta = 4: drift (the O(n^2) loop, median of 5) and a whole step (drift + rotation noise + "
           "normalisation)\n\n");
    printf("| n | threads | steps/s | drift: attnbif [ms] | drift: reference [ms] | reference / attnbif | ns per pair "
           "(per core) | Gflop/s (15 flops/pair, exp not counted) | max abs diff |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int q = 0; q < 3; q++) {
        int n = sizes[q];
        ab_sim_spec sim = {0};
        sim.attention = 1;
        sim.independent_noise = 1;
        ab_model m = {AB_MODEL_SA, d, beta};
        ab_particles p;
        ab_error err = {0};
        if (ab_particles_init(&p, &m, 0.1, n, &sim, 1e-3, 42, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
        double *V2 = malloc(sizeof(double) * n * d), *G = malloc(sizeof(double) * (size_t)n * n);
        if (!V2 || !G) return 1;
        for (int threads = 1; threads <= 2; threads++) {
            omp_set_num_threads(threads);
            const int reps = (int)fmax(1.0, 2e7 / ((double)n * n));
            double t_ours = time_op(OURS, &p, V2, G, reps), t_ref = time_op(REFERENCE, &p, V2, G, reps);
            double diff = 0.0;
            ab_attention_drift(AB_MODEL_SA, n, d, beta, p.X, p.XT, p.V);
            ref_sim_drift(1, n, d, beta, p.X, V2, G);
            for (int k = 0; k < n * d; k++) diff = fmax(diff, fabs(p.V[k] - V2[k]));
            double t_step = time_op(STEP, &p, V2, G, reps);
            const double pairs = (double)n * n;
            printf("| %d | %d | %.1f | %.3f | %.3f | %.2f | %.2f | %.2f | %.1e |\n", n, threads, 1.0 / t_step, 1e3 * t_ours,
                   1e3 * t_ref, t_ref / t_ours, 1e9 * t_ours * threads / pairs, 15.0 * pairs / t_ours * 1e-9, diff);
            fflush(stdout);
        }
        free(V2);
        free(G);
        ab_particles_free(&p);
    }
    return 0;
}

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

int main(int argc, char **argv)
{
    ab_init();
    if (argc > 1 && strcmp(argv[1], "weak") == 0) return weak_error(argc > 2 ? atof(argv[2]) : 6400.0);
    const int sizes[3] = {256, 1024, 4096}, d = 3;
    const double beta = 4.0;
    printf("SA, d = 3, beta = 4: drift (the O(n^2) loop) and a whole step (drift + rotation noise + normalisation)\n\n");
    printf("| n | threads | steps/s (attnbif step) | drift: attnbif [ms] | drift: reference [ms] | ratio | pair interactions/s | max |dV| |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (int q = 0; q < 3; q++) {
        int n = sizes[q];
        ab_sim_spec sim = {0};
        sim.attention = 1;
        sim.independent_noise = 1;
        ab_model m = {AB_MODEL_SA, d, beta};
        ab_particles p;
        ab_error err = {0};
        ab_particles_init(&p, &m, 0.1, n, &sim, 1e-3, 42, &err);
        double *V2 = malloc(sizeof(double) * n * d), *G = malloc(sizeof(double) * (size_t)n * n);
        for (int threads = 1; threads <= 2; threads++) {
            omp_set_num_threads(threads);
            int reps = n <= 1024 ? 20 : 3;
            double t0 = now();
            for (int k = 0; k < reps; k++) ab_attention_drift(AB_MODEL_SA, n, d, beta, p.X, p.XT, p.V);
            double t_ours = (now() - t0) / reps;
            t0 = now();
            for (int k = 0; k < reps; k++) ref_sim_drift(1, n, d, beta, p.X, V2, G);
            double t_ref = (now() - t0) / reps;
            double diff = 0.0;
            for (int k = 0; k < n * d; k++) diff = fmax(diff, fabs(p.V[k] - V2[k]));
            t0 = now();
            for (int k = 0; k < reps; k++) ab_particles_step(&p);
            double t_step = (now() - t0) / reps;
            printf("| %d | %d | %.1f | %.3f | %.3f | %.2f | %.3g | %.1e |\n", n, threads, 1.0 / t_step, 1e3 * t_ours,
                   1e3 * t_ref, t_ref / t_ours, (double)n * n / t_ours, diff);
            fflush(stdout);
        }
        free(V2);
        free(G);
        ab_particles_free(&p);
    }
    /* the kernel's raw cost: exp throughput, the floor of any implementation */
    const long N = 20000000;
    double acc = 0.0, t0 = now();
    for (long k = 0; k < N; k++) acc += exp(-1e-9 * k);
    double t_exp = (now() - t0) / N;
    printf("\nexp(): %.2f ns per call single-threaded (%.3g calls/s); checksum %.3f\n", 1e9 * t_exp, 1.0 / t_exp, acc);
    return 0;
}

/* Weak error of the particle integrator in dt, measured on the exact n = 2 law: the bias
 * of E[q] against the exact mean (SA, d = 3, beta = 2, kappa = 0.5). It drives the
 * integrator directly (src/sim/particles.h) so that it can also step beyond the largest dt
 * the program admits (dt * rate = 0.1), where the first-order bias becomes measurable. */
#include "attnbif/sim.h"
#include "sim/particles.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    ab_init();
    ab_model m = {AB_MODEL_SA, 3, 2.0};
    const double kappa = 0.5;
    double exact;
    ab_error err = {0};
    ab_pair_overlap_law(m.kind, m.d, m.beta, kappa, 2, &exact, NULL, &err);
    ab_sim_spec s;
    memset(&s, 0, sizeof s);
    s.attention = 1;
    s.independent_noise = 1;
    const double rate = ab_sim_rate(m.kind, m.d, m.beta, kappa, &s);
    printf("SA, d = 3, beta = 2, kappa = 0.5, n = 2: exact E[q] = %.6f, rate = %.3g; 512 replicas x 400 time units\n\n",
           exact, rate);
    printf("| dt | dt * rate | E[q] simulated | standard error | bias | bias / dt |\n|---|---|---|---|---|---|\n");
    const double dts[5] = {0.16, 0.08, 0.04, 0.02, 0.01};
    const int R = 512;
    for (int i = 0; i < 5; i++) {
        double dt = dts[i], sum = 0.0, sum2 = 0.0;
        long steps = (long)(400.0 / dt), burn = (long)(5.0 / dt);
#pragma omp parallel for reduction(+ : sum, sum2) schedule(dynamic)
        for (int k = 0; k < R; k++) {
            ab_particles p;
            ab_error e = {0};
            ab_particles_init(&p, &m, kappa, 2, &s, dt, 1000003UL * (i + 1) + k, &e);
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

/* Common noise (random quadratic form): the one-point law stays uniform, pairs synchronise
 * to q = +-1, the top Lyapunov exponent is negative, and with attention and independent
 * noise it changes sign where the noise dominates. Also: reproducibility across thread
 * counts and the time-step check. */
#include "attnbif/sim.h"
#include "testutil.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

static ab_sim_spec base(void)
{
    ab_sim_spec s;
    memset(&s, 0, sizeof s);
    s.n = 16;
    s.replicas = 32;
    s.seed = 2024;
    s.t_burn = 6.0;
    s.t_measure = 10.0;
    s.sample_every = 0.5;
    s.bins = 20;
    s.lyapunov = 1;
    return s;
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    ab_error err = {0};
    ab_sim_result res;

    /* Pure RQF: no attention, no independent noise. */
    ab_sim_spec s = base();
    s.common_noise = 1.0;
    ab_model m = {AB_MODEL_SA, 3, 0.0};
    if (ab_check(&t, ab_sim_run(&m, 0.0, s.n, &s, 1, NULL, NULL, &res, &err) == AB_OK, "pure RQF runs %s", err.msg)) {
        ab_check(&t, res.mean_x_norm.mean <= 5.0 * res.mean_x_norm.err,
                 "one-point law uniform: |E x| = %.4f within 5 sigma (%.4f)", res.mean_x_norm.mean, res.mean_x_norm.err);
        ab_check(&t, res.second_moment.mean <= 5.0 * res.second_moment.err,
                 "one-point law uniform: max |E x x^T - I/d| = %.4f within 5 sigma (%.4f)", res.second_moment.mean,
                 res.second_moment.err);
        ab_check(&t, res.abs_q.mean > 0.999, "pairs synchronise: <|q|> = %.6f > 0.999", res.abs_q.mean);
        double ends = (res.hist_q[0] + res.hist_q[res.bins - 1]) * (2.0 / res.bins);
        ab_check(&t, ends > 0.99, "overlap histogram concentrated at q = -1 and q = +1 (mass %.4f)", ends);
        ab_check(&t, res.lyapunov.mean + 4.0 * res.lyapunov.err < 0.0, "pure RQF Lyapunov exponent %.3f +- %.3f < 0",
                 res.lyapunov.mean, res.lyapunov.err);
        ab_sim_result_free(&res);
    }

    /* The pure RQF exponent is known exactly: lambda = -2 s^2 in every dimension
     * (docs/simulation.md derives it from the Stratonovich tangent flow). The log growth
     * fluctuates with variance 4 s^2 per unit time, so 64 replicas x 100 time units give a
     * standard error of about 2 s / 80 = 0.02: the tolerance is 4 standard errors. Two
     * tokens suffice (each token's tangent grows at the same rate). */
    s = base();
    s.n = 2;
    s.replicas = 64;
    s.t_burn = 1.0;
    s.t_measure = 100.0;
    s.common_noise = 0.8;
    ab_model m4 = {AB_MODEL_SA, 4, 0.0};
    if (ab_check(&t, ab_sim_run(&m4, 0.0, s.n, &s, 11, NULL, NULL, &res, &err) == AB_OK, "pure RQF d=4 runs %s", err.msg)) {
        const double exact = -2.0 * 0.8 * 0.8;
        ab_check(&t, fabs(res.lyapunov.mean - exact) <= 4.0 * res.lyapunov.err && res.lyapunov.err < 0.03,
                 "pure RQF d=4 s=0.8: Lyapunov %.4f +- %.4f vs exact -2 s^2 = %.4f (%.1f sigma, tolerance 4)",
                 res.lyapunov.mean, res.lyapunov.err, exact, fabs(res.lyapunov.mean - exact) / res.lyapunov.err);
        ab_sim_result_free(&res);
    }

    /* Attention (USA, d=3, beta=4, mean-field kappa_1 = 1.28) + common noise s = 0.5 +
     * independent noise: negative exponent in the clustered phase (the attention pulls
     * perturbations back), positive where the independent noise dominates and the tokens
     * spread (the attention then amplifies perturbations towards denser regions). dt is set
     * at 0.09 / rate, inside the checked bound, to keep the test short. */
    s = base();
    s.n = 24;
    s.replicas = 8;
    s.t_burn = 5.0;
    s.t_measure = 15.0;
    s.dt = 3.0e-4;
    s.attention = 1;
    s.independent_noise = 1;
    s.common_noise = 0.5;
    ab_model usa = {AB_MODEL_USA, 3, 4.0};
    const double kappas[2] = {0.2, 3.0};
    for (int i = 0; i < 2; i++) {
        if (!ab_check(&t, ab_sim_run(&usa, kappas[i], s.n, &s, 2 + i, NULL, NULL, &res, &err) == AB_OK, "runs %s", err.msg)) continue;
        if (i == 0)
            ab_check(&t, res.lyapunov.mean + 4.0 * res.lyapunov.err < 0.0 && res.r.mean > 0.9,
                     "kappa = 0.2 (clustered, r = %.3f): Lyapunov %.3f +- %.3f < 0", res.r.mean, res.lyapunov.mean, res.lyapunov.err);
        else
            ab_check(&t, res.lyapunov.mean - 4.0 * res.lyapunov.err > 0.0 && res.r.mean < 0.5,
                     "kappa = 3 (noise dominates, r = %.3f): Lyapunov %.3f +- %.3f > 0", res.r.mean, res.lyapunov.mean,
                     res.lyapunov.err);
        ab_sim_result_free(&res);
    }

    /* Same seed, same numbers, whatever the number of threads. */
    s = base();
    s.attention = 1;
    s.independent_noise = 1;
    s.common_noise = 0.3;
    s.replicas = 4;
    s.t_burn = 1.0;
    s.t_measure = 2.0;
    ab_model sa = {AB_MODEL_SA, 3, 2.0};
    ab_sim_result a, b;
    omp_set_num_threads(1);
    ab_status s1 = ab_sim_run(&sa, 0.3, s.n, &s, 5, NULL, NULL, &a, &err);
    omp_set_num_threads(2);
    ab_status s2 = ab_sim_run(&sa, 0.3, s.n, &s, 5, NULL, NULL, &b, &err);
    if (ab_check(&t, s1 == AB_OK && s2 == AB_OK, "runs with 1 and 2 threads")) {
        ab_check(&t, a.r.mean == b.r.mean && a.q.mean == b.q.mean && a.lyapunov.mean == b.lyapunov.mean &&
                         memcmp(a.hist_q, b.hist_q, sizeof(double) * a.bins) == 0,
                 "1 and 2 threads give bit-identical results (r = %.17g vs %.17g)", a.r.mean, b.r.mean);
        /* the nematic histogram: a density on [-1/(d-1), 1] whose mean is the measured <S>
         * to within half a bin (the histogram only knows the bin of each sample) */
        double mass = 0.0, mean = 0.0, w = (a.S_hi - a.S_lo) / a.bins;
        for (int i = 0; i < a.bins; i++) {
            mass += a.hist_S[i] * w;
            mean += a.hist_S[i] * w * (a.S_lo + (i + 0.5) * w);
        }
        ab_check(&t, fabs(mass - 1.0) < 1e-12 && fabs(mean - a.S.mean) <= 0.5 * w,
                 "nematic histogram: mass %.15f, mean %.4f vs <S> = %.4f (within half a bin, %.3f)", mass, mean, a.S.mean,
                 0.5 * w);
        ab_sim_result_free(&a);
        ab_sim_result_free(&b);
    }

    /* A user time step that is too large is refused with a message; the automatic one is
     * within the bound. */
    s.dt = 0.5;
    double dt;
    ab_status st = ab_sim_choose_dt(AB_MODEL_SA, 3, 2.0, 0.3, &s, &dt, &err);
    ab_check(&t, st == AB_EINVAL && strstr(err.msg, "simulation.dt") != NULL, "dt = 0.5 refused: %s", err.msg);
    s.dt = 0.0;
    st = ab_sim_choose_dt(AB_MODEL_USA, 3, 4.0, 0.3, &s, &dt, &err);
    ab_check(&t, st == AB_OK && dt * ab_sim_rate(AB_MODEL_USA, 3, 4.0, 0.3, &s) <= 0.01 + 1e-15,
             "automatic dt = %.3g keeps dt * rate <= 0.01", dt);
    return ab_finish(&t);
}

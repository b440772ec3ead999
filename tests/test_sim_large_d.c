/* The particle simulator at large d (issue 7: it must accept every d the mean-field solver
 * does): pure independent noise on S^{d-1}, d = 64 and 256, from tokens started in one
 * cluster. Every step is an isotropic random rotation of each token, so the uniform law is
 * exactly stationary whatever dt: for n = 2, E<X1,X2> = 0 and E r^4 = (1 + 1/d)/4 (r^2 =
 * (1 + q)/2, E q^2 = 1/d), and the mean position vanishes. */
#include "attnbif/sim.h"
#include "attnbif/spec.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void diffusion_case(ab_tally *t, int d, int replicas, double t_measure_steps, int sample_steps)
{
    ab_model m = {AB_MODEL_SA, d, 1.0};
    ab_sim_spec s;
    memset(&s, 0, sizeof s);
    const double kappa = 1.0, dt = 0.09 / (kappa * (d - 1)); /* dt * rate = 0.09, under the checked 0.1 */
    s.n = 2;
    s.replicas = replicas;
    s.seed = 11;
    s.dt = dt;
    s.t_burn = 40 * dt; /* each step turns a token by ~sqrt(0.18) rad: 40 steps forget the cluster */
    s.t_measure = t_measure_steps * dt;
    s.sample_every = sample_steps * dt;
    s.bins = 10;
    s.attention = 0;
    s.independent_noise = 1;
    s.initial_cluster = 1;
    ab_sim_result res;
    ab_error err = {0};
    char what[64];
    snprintf(what, sizeof what, "d = %d kappa-only diffusion, n = 2", d);
    if (!ab_check(t, ab_sim_run(&m, kappa, 2, &s, 0, NULL, NULL, &res, &err) == AB_OK, "%s runs %s", what, err.msg)) return;
    ab_check(t, !res.incomplete && res.batches >= AB_SIM_MIN_BATCHES, "%s: %d batch means, no null statistic", what,
             res.batches);
    ab_check(t, fabs(res.q.mean) <= 5.0 * res.q.err, "%s: E<X1,X2> = %.3g +- %.2g, exact 0 (5 sigma)", what, res.q.mean,
             res.q.err);
    const double r4 = 0.25 * (1.0 + 1.0 / d);
    ab_check(t, fabs(res.r4.mean - r4) <= 5.0 * res.r4.err, "%s: E r^4 = %.6f +- %.2g, exact (1 + 1/d)/4 = %.6f (5 sigma)",
             what, res.r4.mean, res.r4.err, r4);
    /* |mean position| over d coordinates: about its own error when the mean is 0 */
    ab_check(t, res.mean_x_norm.mean <= 2.0 * res.mean_x_norm.err,
             "%s: |E x| = %.3g, its noise level %.3g (uniform: at most 2x the noise)", what, res.mean_x_norm.mean,
             res.mean_x_norm.err);
    ab_sim_result_free(&res);
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    /* the spec accepts a simulation at the largest d the solver accepts */
    ab_spec spec;
    ab_error err = {0};
    ab_check(&t,
             ab_spec_parse_string("model: SA\nd: 256\nbeta: 1\nkappa: 0.1\nsimulation: {n: 4, replicas: 2}\n", "d256.yaml",
                                  &spec, &err) == AB_OK,
             "a d = 256 simulation spec is accepted %s", err.msg);
    /* cost: a d x d elimination per token and step (Cayley) and a d x d eigenproblem per sample */
    diffusion_case(&t, 64, 8, 400, 2);
    diffusion_case(&t, 256, 4, 96, 6);
    return ab_finish(&t);
}

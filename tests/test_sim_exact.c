/* The particle simulator against exact results: the n = 2 overlap law (docs/theory.md),
 * mean and histogram (chi-square) for SA and USA in two dimensions, the exact law itself
 * against a closed form, and at n = 128 the mean-field 1-cluster from the solver. */
#include "attnbif/results.h"
#include "attnbif/sim.h"
#include "testutil.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static ab_sim_spec pair_spec(void)
{
    ab_sim_spec s;
    memset(&s, 0, sizeof s);
    s.n = 2;
    s.replicas = 64;
    s.seed = 12345;
    s.t_burn = 5.0;
    s.t_measure = 200.0;
    s.sample_every = 2.0; /* several relaxation times 1/(2 kappa (d-1)): nearly independent samples */
    s.bins = 16;
    s.attention = 1;
    s.independent_noise = 1;
    return s;
}

static void check_pair(ab_tally *t, ab_model_kind kind, int d, double beta, double kappa)
{
    ab_sim_spec s = pair_spec();
    ab_model m = {kind, d, beta};
    ab_sim_result res;
    ab_error err = {0};
    char what[96];
    snprintf(what, sizeof what, "%s d=%d beta=%g kappa=%g n=2", ab_model_kind_name(kind), d, beta, kappa);
    if (!ab_check(t, ab_sim_run(&m, kappa, 2, &s, 7, NULL, NULL, &res, &err) == AB_OK, "%s: simulation runs %s", what, err.msg))
        return;
    double exact_mean, prob[16];
    ab_pair_overlap_law(kind, d, beta, kappa, s.bins, &exact_mean, prob, &err);
    /* mean within 4 standard errors (replica spread; the dt bias is ~1e-3, well below) */
    ab_check(t, fabs(res.q.mean - exact_mean) <= 4.0 * res.q.err, "%s: <q> = %.5f +- %.5f vs exact %.5f (%.1f sigma)", what,
             res.q.mean, res.q.err, exact_mean, fabs(res.q.mean - exact_mean) / res.q.err);
    /* chi-square of the histogram against the exact bin probabilities */
    double total = (double)res.replicas * res.samples_per_replica, chi2 = 0.0;
    for (int b = 0; b < s.bins; b++) {
        double observed = res.hist_q[b] * total * (2.0 / s.bins), expected = total * prob[b];
        chi2 += (observed - expected) * (observed - expected) / expected;
    }
    double p = gsl_cdf_chisq_Q(chi2, s.bins - 1);
    ab_check(t, p > 1e-3, "%s: histogram chi^2 = %.1f for %d dof, p = %.3g > 1e-3", what, chi2, s.bins - 1, p);
    ab_sim_result_free(&res);
}

/* The batch-means error bars are honest: 24 independent two-replica runs of the n = 2
 * system, sampled every 0.05 (much shorter than the relaxation time, so that neighbouring
 * samples are strongly correlated), each giving z = (<q> - exact) / error from its 16
 * batch means. For honest errors the z are t-distributed with 15 degrees of freedom:
 * mean z^2 = 15/13 with a standard error of ~0.37 over 24 runs. The check, mean z^2 in
 * [0.4, 2.5], fails if the errors are too small by a factor 1.5 or too large by 1.7. */
static void check_error_bars(ab_tally *t)
{
    ab_sim_spec s = pair_spec();
    s.replicas = 2;
    s.t_burn = 2.0;
    s.t_measure = 60.0;
    s.sample_every = 0.05;
    ab_model m = {AB_MODEL_SA, 3, 2.0};
    const double kappa = 0.5;
    double exact, z2 = 0.0, tau = 0.0, batch_time = 0.0;
    ab_error err = {0};
    ab_pair_overlap_law(m.kind, m.d, m.beta, kappa, 2, &exact, NULL, &err);
    const int runs = 24;
    int ok = 1;
    for (int i = 0; i < runs; i++) {
        ab_sim_result res;
        s.seed = 1000 + (unsigned long)i;
        if (ab_sim_run(&m, kappa, 2, &s, 3, NULL, NULL, &res, &err) != AB_OK) { ok = 0; break; }
        z2 += (res.q.mean - exact) * (res.q.mean - exact) / (res.q.err * res.q.err);
        tau += res.tau_r / runs;
        batch_time = res.batch_time;
        ok = ok && res.batches == 16;
        ab_sim_result_free(&res);
    }
    z2 /= runs;
    ab_check(t, ok && z2 >= 0.4 && z2 <= 2.5,
             "batch-means errors honest: mean z^2 = %.2f over %d runs of 16 batches (t_15: 1.15 +- 0.37; allowed [0.4, 2.5])",
             z2, runs);
    ab_check(t, tau > 0.05 && batch_time > 10.0 * tau,
             "autocorrelation time of r %.3f > the sampling interval 0.05, batches (%.2f) > 10 tau", tau, batch_time);
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    /* The exact law: for USA at beta = 0 and d = 3, p(q) ~ e^{q/(2 kappa)}, whose mean is the
     * Langevin function coth(a) - 1/a, a = 1/(2 kappa). */
    double mean, prob[20], sum = 0.0;
    ab_error err = {0};
    ab_pair_overlap_law(AB_MODEL_USA, 3, 0.0, 0.25, 20, &mean, prob, &err);
    for (int b = 0; b < 20; b++) sum += prob[b];
    ab_check_rel(&t, mean, 1.0 / tanh(2.0) - 0.5, 1e-10, 0.0, "exact n=2 mean at beta=0, d=3 vs the Langevin function");
    ab_check_rel(&t, sum, 1.0, 1e-10, 0.0, "exact n=2 bin probabilities sum to 1");
    ab_pair_overlap_law(AB_MODEL_SA, 2, 1.0, 0.4, 20, &mean, prob, &err);
    sum = 0.0;
    for (int b = 0; b < 20; b++) sum += prob[b];
    ab_check_rel(&t, sum, 1.0, 1e-8, 0.0, "exact n=2 bin probabilities sum to 1 with the d=2 endpoint singularity");

    check_error_bars(&t);
    check_pair(&t, AB_MODEL_SA, 3, 2.0, 0.5);
    check_pair(&t, AB_MODEL_USA, 3, 1.0, 0.5);
    check_pair(&t, AB_MODEL_SA, 5, 1.5, 0.3);
    check_pair(&t, AB_MODEL_USA, 5, 1.0, 0.3);

    /* n = 128 tokens started in one cluster, SA d=3 beta=1 kappa=0.2: r against the mean-field
     * 1-cluster (finite-n corrections at this n were measured at < 0.005, docs/simulation.md:
     * tolerance 5 standard errors + 0.01). */
    ab_spec spec;
    ab_solve_result mf;
    if (ab_check(&t, ab_spec_parse_string("model: SA\nd: 3\nbeta: 1\nkappa: 0.2\ndiscretization: {nodes: 64}\n"
                                          "state: {type: cluster}\neigen: {sectors: [0, 1]}\n",
                                          "mf.yaml", &spec, &err) == AB_OK &&
                         ab_solve_problem(&spec, NULL, NULL, &mf, &err) == AB_OK,
                 "mean-field 1-cluster %s", err.msg)) {
        ab_sim_spec s = pair_spec();
        s.replicas = 8;
        s.t_burn = 4.0;
        s.t_measure = 6.0;
        s.sample_every = 0.2;
        s.initial_cluster = 1;
        ab_model m = {AB_MODEL_SA, 3, 1.0};
        ab_sim_result res;
        if (ab_check(&t, ab_sim_run(&m, 0.2, 128, &s, 9, NULL, NULL, &res, &err) == AB_OK, "n=128 simulation %s", err.msg)) {
            ab_check(&t, fabs(res.r.mean - mf.obs.r) <= 5.0 * res.r.err + 0.01,
                     "n=128: r = %.4f +- %.4f against the mean-field %.5f", res.r.mean, res.r.err, mf.obs.r);
            ab_sim_result_free(&res);
        }
        ab_solve_result_free(&mf);
    }
    return ab_finish(&t);
}

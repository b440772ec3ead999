/* The uniform state's spectrum against the analytic mu_l = -l(l+d-2)(kappa - kappa_l)
 * (docs/theory.md): every degree l in every sector m <= l, with multiplicity N(d-1, m). */
#include "attnbif/results.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>

static void check_case(ab_tally *t, ab_model_kind kind, int d, double beta, double kappa)
{
    char yaml[512];
    int max_sector = d == 2 ? 1 : 4;
    snprintf(yaml, sizeof yaml,
             "model: %s\nd: %d\nbeta: %.17g\nkappa: %.17g\ndiscretization: {nodes: 24}\n"
             "state: {type: uniform}\neigen: {sectors: [0, 1%s]}\n",
             ab_model_kind_name(kind), d, beta, kappa, d == 2 ? "" : ", 2, 3, 4");
    ab_spec spec;
    ab_error err = {0};
    ab_solve_result res;
    if (!ab_check(t, ab_spec_parse_string(yaml, "uniform.yaml", &spec, &err) == AB_OK, "spec parses: %s", err.msg)) return;
    if (!ab_check(t, ab_solve_problem(&spec, NULL, NULL, &res, &err) == AB_OK, "solve %s d=%d beta=%g kappa=%g: %s",
                  ab_model_kind_name(kind), d, beta, kappa, err.msg))
        return;
    int n_mass = 0, n_sym = 0;
    for (int i = 0; i < res.spectrum.count; i++) {
        n_mass += res.spectrum.values[i].kind == AB_EIG_MASS;
        n_sym += res.spectrum.values[i].kind == AB_EIG_SYMMETRY;
    }
    ab_check(t, n_mass == 1 && n_sym == 0, "%s d=%d beta=%g: one mass mode, no symmetry mode at the uniform state",
             ab_model_kind_name(kind), d, beta);
    for (int l = 1; l <= 4; l++) {
        double mu = ab_uniform_eigenvalue(kind, d, beta, kappa, l);
        long total = 0;
        for (int m = 0; m <= l && m <= max_sector; m++) {
            /* the eigenvalue of sector m closest to mu must match it to 1e-10 relative */
            const ab_eigenvalue *best = NULL;
            int close = 0;
            for (int i = 0; i < res.spectrum.count; i++) {
                const ab_eigenvalue *e = &res.spectrum.values[i];
                if (e->sector != m || e->kind != AB_EIG_STABILITY) continue;
                if (!best || fabs(e->re - mu) < fabs(best->re - mu)) best = e;
                close += fabs(e->re - mu) <= 1e-10 * fabs(mu);
            }
            char what[160];
            snprintf(what, sizeof what, "%s d=%d beta=%g kappa=%.6g l=%d sector %d: eigenvalue", ab_model_kind_name(kind), d,
                     beta, kappa, l, m);
            if (!ab_check(t, best != NULL, "%s exists", what)) continue;
            ab_check_rel(t, best->re, mu, 1e-10, 0.0, what);
            ab_check(t, best->im == 0.0 && close == 1, "%s is real and simple in its sector (%d matches)", what, close);
            ab_check(t, best->multiplicity == ab_harmonic_dim(d - 1, m), "%s has multiplicity N(d-1,%d) = %ld (got %ld)",
                     what, m, ab_harmonic_dim(d - 1, m), best->multiplicity);
            total += best->multiplicity;
        }
        ab_check(t, total == ab_harmonic_dim(d, l), "%s d=%d beta=%g l=%d: multiplicities add up to N(d,l) = %ld (got %ld)",
                 ab_model_kind_name(kind), d, beta, l, ab_harmonic_dim(d, l), total);
    }
    ab_solve_result_free(&res);
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    const int dims[] = {2, 3, 4, 7};
    const double betas[] = {0.0, 0.5, 4.0, 20.0};
    for (int kind = 0; kind < 2; kind++)
        for (int di = 0; di < 4; di++)
            for (int bi = 0; bi < 4; bi++) {
                int d = dims[di];
                double beta = betas[bi], k1 = ab_kappa_l((ab_model_kind)kind, d, beta, 1);
                /* One kappa above every kappa_l (all stable) and one below kappa_1 (l = 1
                 * unstable), kept away from every kappa_l so relative errors stay meaningful. */
                double kappas[2] = {1.3 * k1, 0.55 * k1};
                for (int l = 2; l <= 4; l++)
                    if (fabs(kappas[1] - ab_kappa_l((ab_model_kind)kind, d, beta, l)) < 0.1 * kappas[1]) kappas[1] *= 0.8;
                for (int ki = 0; ki < 2; ki++) check_case(&t, (ab_model_kind)kind, d, beta, kappas[ki]);
            }
    return ab_finish(&t);
}

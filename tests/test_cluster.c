/* Clustered states: the beta = 0 Langevin self-consistency, the rotation (Goldstone) mode
 * of every 1-cluster, and the antipodal 2-cluster guess. */
#include "attnbif/results.h"
#include "testutil.h"

#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int solve_yaml(ab_tally *t, const char *yaml, ab_spec *spec, ab_solve_result *res, const char *what)
{
    ab_error err = {0};
    if (!ab_check(t, ab_spec_parse_string(yaml, "test.yaml", spec, &err) == AB_OK, "%s: spec parses %s", what, err.msg)) return 0;
    return ab_check(t, ab_solve_problem(spec, NULL, NULL, res, &err) == AB_OK, "%s: solve %s", what, err.msg);
}

/* The Langevin function of the sphere, A_d(b) = I_{d/2}(b) / I_{d/2-1}(b), from GSL. */
static double langevin(int d, double b)
{
    return gsl_sf_bessel_Inu_scaled(0.5 * d, b) / gsl_sf_bessel_Inu_scaled(0.5 * d - 1.0, b);
}

static void langevin_case(ab_tally *t, const char *model, int d, double kappa)
{
    char yaml[256], what[128];
    snprintf(yaml, sizeof yaml, "model: %s\nd: %d\nbeta: 0\nkappa: %.17g\ndiscretization: {nodes: 96}\nstate: {type: cluster}\n",
             model, d, kappa);
    snprintf(what, sizeof what, "%s d=%d beta=0 kappa=%g", model, d, kappa);
    ab_spec spec;
    ab_solve_result res;
    if (!solve_yaml(t, yaml, &spec, &res, what)) return;
    double r = res.obs.r;
    char w2[256];
    snprintf(w2, sizeof w2, "%s: r = A_d(r/kappa) (Langevin self-consistency)", what);
    ab_check(t, r > 0.1, "%s: a genuine cluster (r = %.6f)", what, r);
    ab_check_rel(t, r, langevin(d, r / kappa), 1e-10, 0.0, w2);
    ab_solve_result_free(&res);
}

/* The rotation mode: tagged `symmetry`, multiplicity d-1, eigenvalue 0 to 1e-9, and the
 * discretisation's Goldstone vector is a null vector of the sector-1 operator. */
static void goldstone_case(ab_tally *t, ab_model_kind kind, int d, double beta, double kappa_frac)
{
    double kappa = kappa_frac * ab_kappa_l(kind, d, beta, 1);
    char yaml[320], what[128];
    snprintf(yaml, sizeof yaml,
             "model: %s\nd: %d\nbeta: %.17g\nkappa: %.17g\ndiscretization: {nodes: 96}\nstate: {type: cluster}\n"
             "eigen: {sectors: [%s]}\n",
             ab_model_kind_name(kind), d, beta, kappa, d == 2 ? "0, 1" : "0, 1, 2");
    snprintf(what, sizeof what, "%s d=%d beta=%g kappa=%.5g", ab_model_kind_name(kind), d, beta, kappa);
    ab_spec spec;
    ab_solve_result res;
    if (!solve_yaml(t, yaml, &spec, &res, what)) return;
    int n_sym = 0;
    for (int i = 0; i < res.spectrum.count; i++) {
        const ab_eigenvalue *e = &res.spectrum.values[i];
        if (e->kind != AB_EIG_SYMMETRY) continue;
        n_sym++;
        ab_check(t, e->sector == 1 && e->multiplicity == d - 1, "%s: symmetry mode in sector 1 with multiplicity d-1", what);
        ab_check(t, fabs(e->re) <= 1e-9 && e->im == 0.0, "%s: rotation eigenvalue %.3e is 0 to 1e-9", what, e->re);
    }
    ab_check(t, n_sym == 1, "%s: exactly one eigenvalue tagged symmetry (got %d)", what, n_sym);
    ab_check(t, res.obs.r > 1e-3, "%s: state is a cluster (r = %.6f)", what, res.obs.r);
    ab_solve_result_free(&res);

    /* The Goldstone vector itself, through the discretisation interface. */
    ab_disc *disc;
    ab_newton *nw;
    ab_error err = {0};
    if (ab_disc_create_from_spec(&spec, &disc, &err)) return;
    size_t n = ab_disc_dim(disc);
    double *u = malloc(sizeof(double) * n);
    ab_newton_create(n, &nw, &err);
    ab_disc_initial_guess(disc, &spec.state, u, &err);
    ab_newton_opts opts = {1e-12, 50, NULL, NULL};
    ab_newton_report rep;
    ab_sector_op op;
    if (ab_newton_solve(nw, disc, u, &opts, &rep, &err) == AB_OK &&
        ab_disc_sector_operator(disc, u, 1, &op, &err) == AB_OK && op.n_symmetry == 1) {
        double num = 0.0, den = 0.0, scale = 0.0;
        for (int i = 0; i < op.dim; i++) {
            double acc = 0.0;
            for (int k = 0; k < op.dim; k++) acc += op.matrix[i + (size_t)k * op.dim] * op.symmetry[k];
            num += acc * acc;
            den += op.symmetry[i] * op.symmetry[i];
        }
        /* relative to the operator's size on the low modes: its largest diagonal entry
         * among the first 8 basis functions */
        for (int i = 0; i < 8 && i < op.dim; i++) scale = fmax(scale, fabs(op.matrix[i + (size_t)i * op.dim]));
        ab_check(t, sqrt(num / den) <= 1e-9 * fmax(1.0, scale),
                 "%s: |L g| / |g| = %.3e for the Goldstone vector g = sqrt(1-t^2) rho' (tol 1e-9 x %.3g)", what,
                 sqrt(num / den), fmax(1.0, scale));
    } else {
        ab_check(t, 0, "%s: sector-1 operator with a symmetry vector: %s", what, err.msg);
    }
    free(u);
    ab_newton_destroy(nw);
    ab_disc_destroy(disc);
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    const int dims[] = {3, 5};
    const double kappas[] = {0.05, 0.1, 0.15};
    for (int di = 0; di < 2; di++)
        for (int ki = 0; ki < 3; ki++) {
            langevin_case(&t, "SA", dims[di], kappas[ki]);
            langevin_case(&t, "USA", dims[di], kappas[ki]);
        }
    goldstone_case(&t, AB_MODEL_SA, 3, 4.0, 0.5);
    goldstone_case(&t, AB_MODEL_SA, 3, 4.0, 0.9);
    goldstone_case(&t, AB_MODEL_SA, 2, 1.0, 0.5);
    goldstone_case(&t, AB_MODEL_SA, 5, 3.0, 0.6);
    goldstone_case(&t, AB_MODEL_SA, 3, 0.0, 0.5);
    goldstone_case(&t, AB_MODEL_USA, 3, 2.0, 0.5);
    goldstone_case(&t, AB_MODEL_USA, 4, 0.5, 0.7);
    goldstone_case(&t, AB_MODEL_USA, 2, 1.0, 0.4);

    /* Antipodal 2-cluster (SA d=3 beta=4, below kappa_2): nematic, no polar order. */
    ab_spec spec;
    ab_solve_result res;
    if (solve_yaml(&t, "model: SA\nd: 3\nbeta: 4\nkappa: 0.05\ndiscretization: {nodes: 96}\nstate: {type: antipodal}\n",
                   &spec, &res, "SA d=3 beta=4 kappa=0.05 antipodal")) {
        ab_check(&t, res.obs.S > 0.3 && res.obs.r < 1e-9, "antipodal state: S = %.6f > 0.3, r = %.2e ~ 0", res.obs.S, res.obs.r);
        ab_solve_result_free(&res);
    }
    return ab_finish(&t);
}

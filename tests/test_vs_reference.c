/* attnbif's 1-cluster against the independent reference solver (bench/ref_cluster.c: angle
 * panels, log-sum-exp, no shared code or Bessel library) where the old solver failed or was
 * silently wrong (issue 7): large beta, large d, small kappa. The reference values, each
 * with an error estimate <= 4e-15 from two resolutions, are recorded here (ref_cluster_r
 * reproduces them in a few seconds), so that this test costs one solve per case. Cases
 * that need ~1000 nodes (SA kappa = 1e-4, USA kappa = 0.005) agree too (5e-15, 1.3e-13:
 * docs/benchmarks.md) but take minutes, so they are not run here. */
#include "attnbif/results.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>

static const struct {
    const char *model;
    int d;
    double beta, kappa_over_kappa1, kappa, r; /* kappa used when kappa_over_kappa1 == 0 */
    const char *extra;
} cases[] = {
    {"SA", 3, 50.0, 0.0, 0.01, 0.979941160560, ""},
    {"SA", 64, 8.0, 0.5, 0.0, 0.700864792570, ""},
    {"SA", 64, 8.0, 0.1, 0.0, 0.949624160221013, ""},
    {"SA", 3, 4.0, 0.0, 0.002, 0.997979855207307, ""},
    {"USA", 3, 4.0, 0.0, 0.05, 0.999069660456021, ""},
    {"SA", 512, 8.0, 0.5, 0.0, 0.705800961241, ""},
    {"SA", 2, 300.0, 0.5, 0.0, 0.998338286554, ""},
    {"SA", 3, 1000.0, 0.5, 0.0, 0.999001854859, ""},
};

int main(void)
{
    ab_tally t = {0, 0};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const ab_model_kind kind = cases[k].model[0] == 'U' ? AB_MODEL_USA : AB_MODEL_SA;
        double kappa = cases[k].kappa_over_kappa1 > 0.0
                           ? cases[k].kappa_over_kappa1 * ab_kappa_l(kind, cases[k].d, cases[k].beta, 1)
                           : cases[k].kappa;
        char yaml[512], what[160];
        snprintf(yaml, sizeof yaml, "model: %s\nd: %d\nbeta: %.17g\nkappa: %.17g\nstate: {type: cluster}\neigen: {sectors: [0, 1]}\n%s",
                 cases[k].model, cases[k].d, cases[k].beta, kappa, cases[k].extra);
        snprintf(what, sizeof what, "%s d=%d beta=%g kappa=%.6g: r against the reference", cases[k].model, cases[k].d,
                 cases[k].beta, kappa);
        ab_spec spec;
        ab_solve_result res;
        ab_error err = {0};
        if (!ab_check(&t, ab_spec_parse_string(yaml, "ref.yaml", &spec, &err) == AB_OK, "%s: spec %s", what, err.msg)) continue;
        if (!ab_check(&t, ab_solve_problem(&spec, NULL, NULL, &res, &err) == AB_OK, "%s: solves %s", what, err.msg)) continue;
        /* the reference values are printed to 12 decimals: 1e-9 is the tolerance */
        ab_check_rel(&t, res.obs.r, cases[k].r, 1e-9, 0.0, what);
        printf("     (%d nodes, %s kernel, r - r_ref = %.1e)\n", res.resolution.nodes, res.resolution.kernel,
               res.obs.r - cases[k].r);
        ab_solve_result_free(&res);
    }
    return ab_finish(&t);
}

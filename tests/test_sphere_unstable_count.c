/* The unstable count on the whole sphere's mat-vec (ARPACK) path (docs/sphere.md,
 * "Spectrum"): the uniform state of SA, d = 3, beta = 4 at degree 20 (a sector of 440
 * unknowns: ARPACK shift-invert with GMRES, 12 eigenvalues nearest 0), where the analytic
 * count is sum over kappa_l > kappa of 2l + 1. Observed before the fix: at kappa = 0.052,
 * between kappa_3 and kappa_2, the 12 eigenvalues nearest 0 (the 7 of degree 3, just
 * stable, then 3 of degree 1 and 2 of the 5 of degree 2) gave 5 unstable of 8, with exit 0.
 * Now the rightmost eigenvalues (ARPACK "LR") check the count and the dense decomposition
 * decides when they disagree. */
#include "attnbif/model.h"
#include "attnbif/state.h"
#include "testutil.h"

#include <stdio.h>

static void check(ab_tally *t, double kappa)
{
    char yaml[300];
    snprintf(yaml, sizeof yaml,
             "model: SA\nd: 3\nbeta: 4\nkappa: %.17g\ndiscretization: {type: sphere, degree: 20}\nstate: {type: uniform}\n",
             kappa);
    long want = 0;
    for (int l = 1; l <= 20; l++)
        if (ab_kappa_l(AB_MODEL_SA, 3, 4.0, l) > kappa) want += 2 * l + 1;
    ab_spec spec;
    ab_solve_result res;
    ab_error err = {0};
    if (!ab_check(t, ab_spec_parse_string(yaml, "count.yaml", &spec, &err) == AB_OK, "spec (%s)", err.msg)) return;
    if (!ab_check(t, ab_solve_problem(&spec, NULL, NULL, &res, &err) == AB_OK, "kappa = %g: solve (%s)", kappa, err.msg))
        return;
    ab_check(t, res.spectrum.n_unstable == want, "kappa = %g: %ld unstable eigenvalues (analytic %ld)", kappa,
             res.spectrum.n_unstable, want);
    ab_solve_result_free(&res);
}

int main(void)
{
    ab_tally t = {0};
    check(&t, 0.3);   /* none */
    check(&t, 0.15);  /* degree 1: 3 */
    check(&t, 0.08);  /* degrees 1, 2: 8 */
    check(&t, 0.052); /* the observed case: 8 */
    check(&t, 0.045); /* degrees 1-3: 15 */
    check(&t, 0.019); /* degrees 1-4: 24 */
    return ab_finish(&t);
}

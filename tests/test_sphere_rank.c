/* A 7-fold crossing on the whole sphere's ARPACK path (issue 11; docs/continuation.md,
 * "Symmetric branching"): the uniform state of SA, d = 3, beta = 4 at degree 20 (sectors of
 * 440 unknowns: ARPACK, 12 eigenvalues) followed from kappa = 0.055 to 0.048 across
 * kappa_3, where the unstable count goes from 8 to 15. The branch-point test functions need
 * the eigenvalues of ranks 9 to 15, beyond ARPACK's 12. Observed before the fix: "stability
 * analysis failed: no eigenvalue of rank 13 for the test function" and the branch ended.
 * Now: the branch point at the analytic kappa_3 with its three symmetric branches, and the
 * analytic counts on both sides. */
#include "attnbif/continuation.h"
#include "attnbif/model.h"
#include "testutil.h"

#include <math.h>
#include <string.h>

int main(void)
{
    ab_tally t = {0};
    const char *yaml = "name: rank\nmodel: SA\nd: 3\nbeta: 4\nkappa: 0.055\ndiscretization: {type: sphere, degree: 20}\n"
                       "state: {type: uniform}\n"
                       "continuation: {parameter: kappa, min: 0.048, max: 0.055, direction: -1, ds: 0.004, ds_max: 0.005, "
                       "switch_branches: false}\n";
    ab_spec spec;
    ab_error err = {0};
    ab_diagram d;
    memset(&d, 0, sizeof d);
    if (!ab_check(&t, ab_spec_parse_string(yaml, "rank.yaml", &spec, &err) == AB_OK, "spec (%s)", err.msg) ||
        !ab_check(&t, ab_run_diagram_with(&spec, NULL, &d, &err) == AB_OK, "run (%s)", err.msg))
        return ab_finish(&t);
    const double k3 = ab_kappa_l(AB_MODEL_SA, 3, 4.0, 3);
    int found = 0;
    for (int i = 0; i < d.n_special; i++) {
        const ab_special_point *sp = &d.special[i];
        if (sp->type == AB_SP_END) {
            ab_check(&t, fabs(sp->kappa - 0.048) <= 1e-14, "the branch reaches the window edge (%.15g): %s", sp->kappa,
                     d.branches[0].end_reason);
            continue;
        }
        found++;
        ab_check(&t, sp->l == 3 && fabs(sp->kappa - k3) <= 1e-10 * k3, "l = %d at kappa_3: %.15g against %.15g", sp->l,
                 sp->kappa, k3);
        ab_check(&t, strstr(sp->note, "3 branches by symmetry: D_3h, T_d, C_inf_v") != NULL, "its branches: %s", sp->note);
    }
    ab_check(&t, found == 1, "one branch point (%d)", found);
    const ab_branch *br = &d.branches[0];
    int ok = br->n_points > 2;
    for (int i = 0; i < br->n_points; i++) {
        const ab_branch_point *p = &br->points[i];
        if (p->label != AB_SP_NONE) continue;
        ok &= p->n_unstable == (p->kappa > k3 ? 8 : 15);
    }
    ab_check(&t, ok, "8 unstable eigenvalues above kappa_3 and 15 below at every point (%d points)", br->n_points);
    ab_diagram_free(&d);
    return ab_finish(&t);
}

/* The small-noise limit through `run` (issue 7): problems/sa-d3-beta4-small-noise.yaml follows
 * the 1-cluster of SA d = 3, beta = 4 from kappa = 0.05 down to 1e-3 kappa_1 with nodes: auto,
 * re-discretising along the branch (the grid grows from 48 towards ~700 nodes). Its r at
 * the window edge equals the independent log-domain reference bench/ref_cluster.c to 1e-10
 * (1 - r as well, relative 1e-8: 1 - r ~ 2e-4 there), and every point of the branch is
 * resolved (its spectral tail within the limit). */
#include "attnbif/continuation.h"
#include "ref_cluster.h"
#include "testutil.h"

#include <math.h>
#include <string.h>

int main(void)
{
    ab_tally t = {0};
    ab_spec spec;
    ab_error err = {0};
    ab_diagram d;
    memset(&d, 0, sizeof d);
    if (!ab_check(&t, ab_spec_load("problems/sa-d3-beta4-small-noise.yaml", &spec, &err) == AB_OK, "spec (%s)", err.msg))
        return ab_finish(&t);
    if (!ab_check(&t, ab_run_diagram_with(&spec, NULL, &d, &err) == AB_OK, "run (%s)", err.msg)) return ab_finish(&t);
    const ab_branch *br = &d.branches[0];
    const ab_branch_point *end = &br->points[br->n_points - 1];
    const double kmin = spec.continuation.min;
    ab_check(&t, end->label == AB_SP_END && fabs(end->kappa - kmin) <= 1e-15, "the branch reaches 1e-3 kappa_1 (%.6g)",
             end->kappa);
    int maxn = 0, resolved = 1;
    for (int i = 0; i < br->n_points; i++) {
        if (br->points[i].nodes > maxn) maxn = br->points[i].nodes;
        resolved &= !(br->points[i].tail > 1e-8);
    }
    ab_check(&t, br->points[0].nodes < maxn, "the grid grows along the branch (%d -> %d nodes)", br->points[0].nodes, maxn);
    ab_check(&t, resolved, "every point's spectral tail within 1e-8");
    ref_cluster_result o;
    ref_cluster_r(REF_CLUSTER_SA, 3, 4.0, kmin, 0.999, &o);
    if (ab_check(&t, o.status == 0, "reference (%s)", o.message)) {
        ab_check(&t, fabs(end->r - o.r) <= 1e-10, "r at 1e-3 kappa_1: %.15f vs reference %.15f (diff %.1e, tol 1e-10)", end->r,
                 o.r, fabs(end->r - o.r));
        ab_check_rel(&t, 1.0 - end->r, o.one_minus_r, 1e-8, 0.0, "1 - r at 1e-3 kappa_1 against the reference");
    }
    ab_diagram_free(&d);
    return ab_finish(&t);
}

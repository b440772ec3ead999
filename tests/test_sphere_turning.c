/* A turning point without a change of stability is not a fold (issue 10): SA's triangle of
 * clusters on the whole sphere (d = 3, beta = 4), followed up in kappa from 0.062, turns back
 * at kappa = 0.0655867 where it passes through the axisymmetric ring state (the pitchfork in
 * sector m = 3 of the zonal diagram's l = 3 branch) and returns as the triangle rotated by
 * 60 degrees, with 5 unstable eigenvalues on both sides. Observed before the fix: reported
 * as a fold (LP) and continued back down the rotated copy. Now: a branch point with a note,
 * at the zonal diagram's sector-3 branch point, and the branch ends there. */
#include "attnbif/continuation.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sphere at degree 24 and the zonal discretisation at 96 nodes locate the same point;
 * measured 1.5e-9 relative (the two discretisations and the location tolerances). */
#define AB_TEST_TURN_KAPPA_TOL 1e-8

static int run(ab_tally *t, const char *yaml, ab_spec *spec, ab_diagram *d)
{
    ab_error err = {0};
    memset(d, 0, sizeof *d);
    return ab_check(t, ab_spec_parse_string(yaml, "turning.yaml", spec, &err) == AB_OK, "spec (%s)", err.msg) &&
           ab_check(t, ab_run_diagram_with(spec, NULL, d, &err) == AB_OK, "run (%s)", err.msg);
}

int main(void)
{
    ab_tally t = {0};
    ab_spec zs, ss;
    ab_diagram zd, sd;
    /* the zonal diagram's branch point in sector 3 on the l = 3 branch */
    double kappa_bp = NAN;
    const char *zonal = "name: turning-zonal\nmodel: SA\nd: 3\nbeta: 4\nkappa: 0.3\ndiscretization: {type: zonal, nodes: 96}\n"
                        "state: {type: uniform}\neigen: {sectors: [0, 1, 2, 3]}\n"
                        "continuation: {parameter: kappa, min: 0.04, max: 0.3, direction: -1, ds: 0.02, ds_max: 0.05, "
                        "max_branches: 8}\n";
    if (run(&t, zonal, &zs, &zd)) {
        for (int i = 0; i < zd.n_special; i++)
            if (zd.special[i].type == AB_SP_PITCHFORK && zd.special[i].sector == 3) kappa_bp = zd.special[i].kappa;
        ab_check(&t, isfinite(kappa_bp), "zonal: a branch point in sector 3 (kappa = %.12g)", kappa_bp);
        ab_diagram_free(&zd);
    }
    const char *tri = "name: turning-sphere\nmodel: SA\nd: 3\nbeta: 4\nkappa: 0.062\ndiscretization: {type: sphere, degree: 24}\n"
                      "state: {type: clusters, arrangement: polygon, k: 3}\n"
                      "continuation: {parameter: kappa, min: 0.06, max: 0.07, direction: 1, ds: 0.002, ds_max: 0.003, "
                      "max_steps: 12}\n";
    if (run(&t, tri, &ss, &sd)) {
        int folds = 0, turns = 0;
        double kappa_turn = NAN;
        for (int i = 0; i < sd.n_special; i++) {
            const ab_special_point *sp = &sd.special[i];
            folds += sp->type == AB_SP_FOLD;
            if (sp->type == AB_SP_PITCHFORK && sp->sector < 0 && strstr(sp->note, "not a fold")) {
                turns++;
                kappa_turn = sp->kappa;
            }
        }
        ab_check(&t, folds == 0, "no fold reported (%d)", folds);
        ab_check(&t, turns == 1, "one turning point reported as a branch point with its note (%d)", turns);
        if (isfinite(kappa_bp))
            ab_check(&t, fabs(kappa_turn - kappa_bp) <= AB_TEST_TURN_KAPPA_TOL * kappa_bp,
                     "at the zonal sector-3 branch point: %.12g against %.12g (rel. %.1e, tol %.0e)", kappa_turn, kappa_bp,
                     fabs(kappa_turn - kappa_bp) / kappa_bp, AB_TEST_TURN_KAPPA_TOL);
        const ab_branch *br = &sd.branches[0];
        const ab_branch_point *last = &br->points[br->n_points - 1];
        int same = 1;
        for (int i = 0; i < br->n_points; i++) same &= br->points[i].n_unstable == 5 || br->points[i].n_unstable < 0;
        ab_check(&t, same, "5 unstable eigenvalues all along the branch");
        ab_check(&t, last->label == AB_SP_PITCHFORK && strstr(br->end_reason, "symmetric copy") != NULL,
                 "the branch ends at the turning point (%s)", br->end_reason);
        ab_diagram_free(&sd);
    }
    return ab_finish(&t);
}

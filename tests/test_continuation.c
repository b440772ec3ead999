/* Continuation: branch points on the uniform branch at the analytic kappa_l, criticality
 * against the side on which the branch exists, folds converged in the grid and passed
 * through, and failing branches that end with a reason. */
#include "attnbif/continuation.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int run(ab_tally *t, const char *yaml, ab_spec *spec, ab_diagram *d, const char *what)
{
    ab_error err = {0};
    if (!ab_check(t, ab_spec_parse_string(yaml, "cont.yaml", spec, &err) == AB_OK, "%s: spec parses %s", what, err.msg))
        return 0;
    ab_run_opts opts = {NULL};
    return ab_check(t, ab_run_diagram(spec, &opts, d, &err) == AB_OK, "%s: run %s", what, err.msg);
}

/* Every branch point on branch 1 (the uniform branch) is one of the analytic kappa_l, to
 * 1e-10 relative, with the right l, and every kappa_l inside the window was found. */
static void uniform_branch_points(ab_tally *t, const char *model, int d, double beta, double kmin, double kmax, int nodes)
{
    char yaml[512], what[96];
    snprintf(yaml, sizeof yaml,
             "model: %s\nd: %d\nbeta: %g\nkappa: %g\ndiscretization: {nodes: %d}\nstate: {type: uniform}\n"
             "eigen: {sectors: [%s]}\n"
             "continuation: {parameter: kappa, min: %g, max: %g, direction: -1, ds: 0.02, ds_max: 0.1, switch_branches: false}\n",
             model, d, beta, kmax, nodes, d == 2 ? "0, 1" : "0, 1, 2, 3", kmin, kmax);
    snprintf(what, sizeof what, "%s d=%d beta=%g uniform branch", model, d, beta);
    ab_spec spec;
    ab_diagram dg;
    if (!run(t, yaml, &spec, &dg, what)) { ab_diagram_free(&dg); return; }
    ab_model_kind kind = strcmp(model, "SA") ? AB_MODEL_USA : AB_MODEL_SA;
    int expected = 0, found = 0;
    for (int l = 1; l <= 8; l++) {
        double kl = ab_kappa_l(kind, d, beta, l);
        if (kl <= kmin || kl >= kmax) continue;
        expected++;
        for (int i = 0; i < dg.n_special; i++) {
            const ab_special_point *s = &dg.special[i];
            if (s->branch != 1 || s->l != l) continue;
            found++;
            char w2[160];
            snprintf(w2, sizeof w2, "%s: branch point l=%d at kappa_l", what, l);
            ab_check_rel(t, s->kappa, kl, 1e-10, 0.0, w2);
            ab_check(t, s->sector == 0, "%s: l=%d represented in the zonal sector 0 (got %d)", what, l, s->sector);
            /* odd l: pitchfork by the symmetry x -> -x; even l: transcritical (the cubic
             * integral of P_l is non-zero), except on the circle, where the rotation by pi/l
             * maps cos(l theta) to its negative: a pitchfork again */
            int want_pitchfork = d == 2 || l % 2 == 1;
            ab_check(t, want_pitchfork == (s->type == AB_SP_PITCHFORK), "%s: l=%d is a %s", what, l,
                     ab_special_type_name(s->type));
        }
    }
    int bps = 0;
    for (int i = 0; i < dg.n_special; i++)
        if (dg.special[i].branch == 1 && (dg.special[i].type == AB_SP_PITCHFORK || dg.special[i].type == AB_SP_TRANSCRITICAL)) bps++;
    ab_check(t, expected > 0 && found == expected && bps == expected,
             "%s: each kappa_l in the window found exactly once (%d expected, %d found, %d branch points)", what, expected,
             found, bps);
    ab_diagram_free(&dg);
}

/* The first branch switched from the l = 1 pitchfork lies on the side its criticality says. */
static void criticality(ab_tally *t, const char *model, double beta, double kmin, double kmax, ab_criticality want)
{
    char yaml[512], what[96];
    snprintf(yaml, sizeof yaml,
             "model: %s\nd: 3\nbeta: %g\nkappa: %g\ndiscretization: {nodes: 64}\nstate: {type: uniform}\n"
             "continuation: {parameter: kappa, min: %g, max: %g, direction: -1, ds: 0.02, ds_max: 0.1, max_branches: 2}\n",
             model, beta, kmax, kmin, kmax);
    snprintf(what, sizeof what, "%s d=3 beta=%g l=1 pitchfork", model, beta);
    ab_spec spec;
    ab_diagram dg;
    if (!run(t, yaml, &spec, &dg, what)) { ab_diagram_free(&dg); return; }
    const ab_special_point *bp = NULL;
    for (int i = 0; i < dg.n_special; i++)
        if (dg.special[i].l == 1) bp = &dg.special[i];
    if (!ab_check(t, bp != NULL && dg.n_branches >= 2, "%s: found and switched", what)) { ab_diagram_free(&dg); return; }
    ab_check(t, bp->criticality == want, "%s is %s (got %s)", what, ab_criticality_name(want), ab_criticality_name(bp->criticality));
    ab_check(t, bp->criticality_checked == 1, "%s: the switched branch left on the predicted side", what);
    const ab_branch *b = &dg.branches[1];
    /* the first points of the new branch: below kappa_1 if supercritical, above if subcritical */
    int side_ok = b->n_points > 3;
    for (int i = 1; i < 4 && i < b->n_points; i++)
        side_ok &= want == AB_CRIT_SUPERCRITICAL ? b->points[i].kappa < bp->kappa : b->points[i].kappa > bp->kappa;
    ab_check(t, side_ok, "%s: the cluster branch starts on the %s side of kappa_1", what,
             want == AB_CRIT_SUPERCRITICAL ? "lower" : "upper");
    /* supercritical: the new branch is stable next to the bifurcation */
    if (want == AB_CRIT_SUPERCRITICAL) ab_check(t, b->points[2].n_unstable == 0, "%s: the new branch is stable", what);
    else ab_check(t, b->points[2].n_unstable > 0, "%s: the new branch is unstable before its fold", what);
    ab_diagram_free(&dg);
}

/* The fold of the USA d=3 beta=4 cluster branch: through it and back, and converged in the
 * grid: 64 and 96 nodes agree to 1e-8. */
static double fold_of(ab_tally *t, int nodes)
{
    char yaml[512], what[64];
    snprintf(yaml, sizeof yaml,
             "model: USA\nd: 3\nbeta: 4\nkappa: 1.0\ndiscretization: {nodes: %d}\nstate: {type: cluster}\n"
             "eigen: {sectors: [0, 1]}\n"
             "continuation: {parameter: kappa, min: 0.8, max: 2.0, direction: 1, ds: 0.02, ds_max: 0.05, switch_branches: false}\n",
             nodes);
    snprintf(what, sizeof what, "USA d=3 beta=4 cluster branch (%d nodes)", nodes);
    ab_spec spec;
    ab_diagram dg;
    double fold = NAN;
    if (!run(t, yaml, &spec, &dg, what)) { ab_diagram_free(&dg); return fold; }
    int n_folds = 0;
    for (int i = 0; i < dg.n_special; i++)
        if (dg.special[i].type == AB_SP_FOLD) { fold = dg.special[i].kappa; n_folds++; }
    ab_check(t, n_folds == 1, "%s: one fold (got %d)", what, n_folds);
    const ab_branch *b = &dg.branches[0];
    double kmax = 0.0;
    int after = 0, unstable_after = 0, stable_before = 1;
    for (int i = 0; i < b->n_points; i++) {
        kmax = fmax(kmax, b->points[i].kappa);
        if (b->points[i].label == AB_SP_FOLD) after = 1;
        else if (after && b->points[i].n_unstable > 0) unstable_after = 1;
        else if (!after && b->points[i].n_unstable > 0) stable_before = 0;
    }
    ab_check(t, after && b->points[b->n_points - 1].kappa < fold - 0.1,
             "%s: passes through the fold and comes back down in kappa (ends at %.4f)", what, b->points[b->n_points - 1].kappa);
    ab_check(t, fabs(kmax - fold) <= 1e-9, "%s: the fold is the branch's largest kappa (%.12f vs %.12f)", what, fold, kmax);
    ab_check(t, stable_before && unstable_after, "%s: stable before the fold, unstable after it", what);
    ab_diagram_free(&dg);
    return fold;
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    uniform_branch_points(&t, "SA", 3, 1.0, 0.02, 0.6, 48);
    uniform_branch_points(&t, "SA", 3, 4.0, 0.01, 0.3, 48);
    uniform_branch_points(&t, "USA", 3, 4.0, 0.3, 3.0, 48);
    uniform_branch_points(&t, "USA", 2, 2.0, 0.2, 2.0, 48);
    uniform_branch_points(&t, "SA", 8, 2.0, 0.005, 0.3, 48);
    criticality(&t, "SA", 1.0, 0.1, 0.6, AB_CRIT_SUPERCRITICAL);
    criticality(&t, "USA", 4.0, 0.8, 3.0, AB_CRIT_SUBCRITICAL);
    double f64 = fold_of(&t, 64), f96 = fold_of(&t, 96);
    ab_check(&t, fabs(f64 - f96) <= 1e-8, "fold at 64 and 96 nodes agrees to 1e-8: %.14f vs %.14f (diff %.1e)", f64, f96,
             fabs(f64 - f96));

    /* Continuation in beta: kappa_2(beta) = kappa has two roots (kappa_2 rises from 0 and
     * decays like 1/(2 beta)); both are branch points of the uniform branch, found to 1e-10
     * against a bisection on kappa_2 itself; the transcritical loop that joins them ends at
     * the known branch point instead of circling. */
    {
        ab_spec sb;
        ab_diagram db;
        if (run(&t,
                "model: SA\nd: 3\nbeta: 0.5\nkappa: 0.1\ndiscretization: {nodes: 48}\nstate: {type: uniform}\n"
                "continuation: {parameter: beta, min: 0.0, max: 8, direction: 1, ds: 0.1, ds_max: 0.5, max_branches: 3}\n",
                &sb, &db, "SA d=3 kappa=0.1 in beta")) {
            double roots[2], brackets[2][2] = {{0.5, 3.5}, {3.5, 8.0}};
            for (int k = 0; k < 2; k++) {
                double lo = brackets[k][0], hi = brackets[k][1];
                int rising = ab_kappa_l(AB_MODEL_SA, 3, lo, 2) < 0.1;
                for (int i = 0; i < 200; i++) {
                    double mid = 0.5 * (lo + hi);
                    if ((ab_kappa_l(AB_MODEL_SA, 3, mid, 2) < 0.1) == rising) lo = mid;
                    else hi = mid;
                }
                roots[k] = 0.5 * (lo + hi);
                int found = 0;
                for (int i = 0; i < db.n_special; i++)
                    if (db.special[i].branch == 1 && db.special[i].l == 2 && fabs(db.special[i].beta - roots[k]) <= 1e-10 * roots[k])
                        found = 1;
                ab_check(&t, found, "beta continuation: branch point at the root beta = %.12f of kappa_2(beta) = 0.1", roots[k]);
            }
            int closed = 0;
            for (int k = 0; k < db.n_branches; k++) closed += strstr(db.branches[k].end_reason, "known branch point") != NULL;
            ab_check(&t, closed >= 1 && db.n_branches == 3, "the loop between them ends at the known branch point (%d branches)",
                     db.n_branches);
        }
        ab_diagram_free(&db);
    }

    /* A branch that cannot go on ends with the reason, and the diagram is still complete:
     * continuing USA in beta towards 800, kappa_l = lambda_l/beta ~ e^beta overflows double
     * precision near beta = 710 (kappa = 1e300 keeps kappa_l/kappa representable until then). */
    ab_spec spec;
    ab_diagram dg;
    if (run(&t,
            "model: USA\nd: 3\nbeta: 690\nkappa: 1e300\ndiscretization: {nodes: 16}\nstate: {type: uniform}\n"
            "continuation: {parameter: beta, min: 600, max: 800, direction: 1, ds: 5, ds_min: 0.01, ds_max: 50, "
            "switch_branches: false}\n",
            &spec, &dg, "overflowing window")) {
        const ab_branch *b = &dg.branches[0];
        const ab_branch_point *last = &b->points[b->n_points - 1];
        ab_check(&t, dg.n_branches == 1 && last->label == AB_SP_END && strstr(b->end_reason, "failed") != NULL &&
                     last->beta < 720.0,
                 "the branch ends with an end point saying why: %s", b->end_reason);
        const ab_special_point *ep = &dg.special[dg.n_special - 1];
        ab_check(&t, ep->type == AB_SP_END && strcmp(ep->note, b->end_reason) == 0 && ep->nodes.n == 16,
                 "the end point carries the reason and a density profile");
    }
    ab_diagram_free(&dg);
    if (run(&t,
            "model: SA\nd: 3\nbeta: 1\nkappa: 0.5\nstate: {type: uniform}\ndiscretization: {nodes: 24}\n"
            "continuation: {parameter: kappa, min: 0.1, max: 0.6, max_steps: 3}\n",
            &spec, &dg, "max_steps")) {
        const ab_branch *b = &dg.branches[0];
        ab_check(&t, strstr(b->end_reason, "max_steps") != NULL && b->points[b->n_points - 1].label == AB_SP_END,
                 "max_steps ends the branch: %s", b->end_reason);
    }
    ab_diagram_free(&dg);
    return ab_finish(&t);
}

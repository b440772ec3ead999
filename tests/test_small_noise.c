/* Continuation towards small noise (issue 7): with the fixed arclength weight the steps in
 * kappa shrink like kappa^2 (u = log rho grows like 1/kappa), with relative_state_norm they
 * stay of a fixed relative size. The 1-cluster of SA d = 3, beta = 4 from kappa = 0.05: in
 * 60 steps the relative norm reaches kappa = 0.002, the fixed one does not get below 0.01;
 * the point reached is the state an independent Newton solve finds there. And `solve` at
 * 1e-3 kappa_1 is resolved (it was refused: the kernel form's choice). */
#include "attnbif/cont.h"
#include "attnbif/state.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STEPS 60
#define NODES 160
#define TARGET_KAPPA 0.002

/* Continue the cluster from kappa = 0.05 downwards for at most STEPS steps, stopping below
 * TARGET_KAPPA; returns the smallest kappa reached and the state there in x. */
static double descend(ab_tally *t, int relative, double *x, ab_disc **disc_out, int *steps_out)
{
    const char *yaml = "model: SA\nd: 3\nbeta: 4\nkappa: 0.05\nstate: {type: cluster}\ndiscretization: {nodes: 160}\n";
    ab_spec spec;
    ab_error err = {0};
    ab_disc *disc = NULL;
    ab_newton *nw = NULL;
    ab_linsol *ls = NULL;
    ab_cont *c = NULL;
    double reached = NAN;
    *steps_out = 0;
    if (ab_spec_parse_string(yaml, "small.yaml", &spec, &err) || ab_disc_create_from_spec(&spec, &disc, &err) ||
        ab_newton_create(NODES, &nw, &err) || ab_initial_state(disc, &spec.state, x, &err)) {
        ab_check(t, 0, "set-up: %s", err.msg);
        goto done;
    }
    ab_newton_opts opts = {1e-12, 50, NULL, NULL};
    ab_newton_report rep;
    if (!ab_check(t, ab_newton_solve(nw, disc, x, &opts, &rep, &err) == AB_OK, "the cluster at kappa = 0.05: %s", err.msg))
        goto done;
    ab_problem *p = ab_disc_problem(disc);
    const int kappa = AB_PARAM_KAPPA;
    ab_problem_set_free(p, 1, &kappa, &err);
    ab_linsol_create(AB_LINSOL_DENSE, NODES + 1, NULL, &ls, &err);
    ab_cont_params prm;
    ab_cont_params_default(&prm);
    prm.relative_state_norm = relative;
    prm.ds_max = 0.05;
    if (ab_cont_alloc(p, ls, &prm, &c, &err)) goto done;
    x[NODES] = 0.05;
    if (ab_cont_set(c, x, NULL, -1, &err)) goto done;
    reached = 0.05;
    for (int k = 0; k < STEPS && reached > TARGET_KAPPA; k++) {
        ab_cont_step_info info;
        if (ab_cont_step(c, &info, &err) != AB_OK) {
            if (ab_cont_ds(c) < prm.ds_min) break;
            continue;
        }
        (*steps_out)++;
        reached = ab_cont_point(c)[NODES];
    }
    memcpy(x, ab_cont_point(c), sizeof(double) * (NODES + 1));
done:
    ab_cont_free(c);
    ab_linsol_destroy(ls);
    ab_newton_destroy(nw);
    *disc_out = disc;
    return reached;
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    double *x = malloc(sizeof(double) * (NODES + 1)), *y = malloc(sizeof(double) * (NODES + 1));
    ab_disc *disc = NULL;
    int steps = 0;
    const double fixed = descend(&t, 0, x, &disc, &steps);
    ab_check(&t, fixed > 0.01, "fixed weight: %d steps reach only kappa = %.4g (> 0.01; steps shrink like kappa^2)", steps,
             fixed);
    ab_disc_destroy(disc);
    const double rel = descend(&t, 1, x, &disc, &steps);
    ab_check(&t, rel <= TARGET_KAPPA, "relative_state_norm: %d steps reach kappa = %.4g (<= %g)", steps, rel, TARGET_KAPPA);
    if (disc && rel <= TARGET_KAPPA) {
        /* the same state by Newton from a fresh cluster guess at that kappa */
        ab_error err = {0};
        ab_observables o1, o2;
        ab_params prm = ab_disc_params(disc);
        prm.kappa = rel;
        ab_disc_set_params(disc, prm, &err);
        ab_disc_observables(disc, x, &o1, &err);
        ab_spec spec;
        ab_spec_parse_string("model: SA\nd: 3\nbeta: 4\nkappa: 0.05\nstate: {type: cluster}\n", "s.yaml", &spec, &err);
        ab_newton *nw = NULL;
        ab_newton_create(NODES, &nw, &err);
        ab_newton_opts opts = {1e-12, 80, NULL, NULL};
        ab_newton_report rep;
        ab_status st = ab_disc_initial_guess(disc, &spec.state, y, &err);
        if (!st) st = ab_newton_solve(nw, disc, y, &opts, &rep, &err);
        if (!st) st = ab_disc_observables(disc, y, &o2, &err);
        ab_check(&t, st == AB_OK && fabs(o1.r - o2.r) < 1e-10,
                 "at kappa = %.6g the continued r = %.15f equals Newton's from a fresh guess %.15f to 1e-10: %s", rel, o1.r,
                 o2.r, err.msg);
        ab_newton_destroy(nw);
    }
    ab_disc_destroy(disc);
    free(x);
    free(y);
    {
        /* solve at 1e-3 kappa_1 with nodes: auto (nodes_max 1024): was refused at every grid
         * ("kernel error 1.5e-09, limit 1e-09", the Funk-Hecke form's bound, which more nodes
         * do not lower); the log form resolves it at 768 nodes */
        ab_spec spec;
        ab_error err = {0};
        ab_solve_result res;
        ab_spec_parse_string("model: SA\nd: 3\nbeta: 4\nkappa: 1.8766778760067454e-4\nstate: {type: cluster}\n"
                             "eigen: {sectors: [0, 1]}\n",
                             "tiny.yaml", &spec, &err);
        ab_status st = ab_solve_problem(&spec, NULL, NULL, &res, &err);
        ab_check(&t, st == AB_OK && res.resolution.nodes <= 1024 && fabs(res.obs.r - 0.99981215599719042) < 1e-10,
                 "solve at 1e-3 kappa_1 is resolved (%d nodes, %s kernel, error %.1e) with r = %.14f (1024-node value "
                 "0.99981215599719, 1e-10): %s",
                 st ? 0 : res.resolution.nodes, st ? "-" : res.resolution.kernel, st ? 0.0 : res.resolution.kernel_error,
                 st ? 0.0 : res.obs.r, err.msg);
        if (st == AB_OK) ab_solve_result_free(&res);
    }
    return ab_finish(&t);
}

/* The dense and GMRES paths through the solver core give the same results (issue 8): the
 * same Newton iterates, iteration by iteration, and the same diagram (every row and every
 * special point) on each shipped problem, to 1e-10. */
#include "attnbif/continuation.h"
#include "attnbif/state.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Iterates agree relative to their size max(1, max|u|) (u = log rho reaches beta/kappa ~
 * 4000 on the sharp states, where rounding alone is 1e-12 absolute); r and S (O(1))
 * absolutely; the parameter relatively. */
#define PATHS_TOL 1e-10

static const char *const problems[] = {
    "problems/default.yaml",      "problems/sa-d3-beta1.yaml",  "problems/sa-d3-beta20-many-branches.yaml",
    "problems/sa-d8.yaml",        "problems/usa-d2-circle.yaml", "problems/usa-d3-beta4.yaml",
    "problems/sa-d3-beta4-cluster.yaml",
};

/* Newton from the spec's guess, stopped after k iterations, for k = 1 .. until converged:
 * the k-th iterates of the two paths agree. */
static void check_newton(ab_tally *t, const ab_spec *spec)
{
    ab_error err = {0};
    int nodes = spec->disc.nodes;
    if (nodes == AB_NODES_AUTO && ab_choose_run_nodes(spec, &nodes, &err)) nodes = 96;
    ab_disc *disc = NULL;
    if (ab_disc_create_with_nodes(spec, nodes, &disc, &err)) {
        ab_check(t, 0, "%s: discretisation: %s", spec->path, err.msg);
        return;
    }
    const size_t n = ab_disc_dim(disc);
    double *guess = malloc(sizeof(double) * n), *ud = malloc(sizeof(double) * n), *ug = malloc(sizeof(double) * n);
    ab_newton *dense = NULL, *gmres = NULL;
    ab_newton_create_with(n, AB_LINSOL_DENSE, NULL, &dense, &err);
    ab_newton_create_with(n, AB_LINSOL_GMRES, NULL, &gmres, &err);
    ab_initial_state(disc, &spec->state, guess, &err);
    double worst = 0.0;
    int k = 1, converged = 0, same_status = 1, linear = 0;
    for (; k <= 40 && !converged; k++) {
        ab_newton_opts opts = {spec->newton.tol, k, NULL, NULL};
        ab_newton_report rd, rg;
        ab_error e1 = {0}, e2 = {0};
        memcpy(ud, guess, sizeof(double) * n);
        memcpy(ug, guess, sizeof(double) * n);
        ab_status sd = ab_newton_solve(dense, disc, ud, &opts, &rd, &e1);
        ab_status sg = ab_newton_solve(gmres, disc, ug, &opts, &rg, &e2);
        same_status = same_status && sd == sg && rd.iterations == rg.iterations;
        double scale = 1.0, diff = 0.0;
        for (size_t i = 0; i < n; i++) {
            scale = fmax(scale, fabs(ud[i]));
            diff = fmax(diff, fabs(ud[i] - ug[i]));
        }
        worst = fmax(worst, diff / scale);
        converged = sd == AB_OK && rd.converged;
        linear = rg.linear_iterations;
    }
    ab_check(t, converged && same_status, "%s: Newton converges in %d iterations on both paths (GMRES: %d mat-vecs)",
             spec->path, k - 1, linear);
    ab_check(t, worst <= PATHS_TOL, "%s: dense and GMRES Newton iterates agree to %.0e (relative to max|u|) at every iteration (worst %.1e, %zu nodes)",
             spec->path, PATHS_TOL, worst, n);
    ab_newton_destroy(dense);
    ab_newton_destroy(gmres);
    ab_disc_destroy(disc);
    free(guess); free(ud); free(ug);
}

static void check_diagram(ab_tally *t, ab_spec *spec)
{
    ab_diagram dd, dg;
    ab_run_opts opts = {NULL};
    ab_error e1 = {0}, e2 = {0};
    spec->linear_solver.type = AB_LINSOL_DENSE;
    ab_status sd = ab_run_diagram(spec, &opts, &dd, &e1);
    spec->linear_solver.type = AB_LINSOL_GMRES;
    ab_status sg = ab_run_diagram(spec, &opts, &dg, &e2);
    if (!ab_check(t, sd == AB_OK && sg == AB_OK, "%s: diagram on both paths (%s%s)", spec->path, e1.msg, e2.msg)) {
        ab_diagram_free(&dd);
        ab_diagram_free(&dg);
        return;
    }
    int same_shape = dd.n_branches == dg.n_branches && dd.n_special == dg.n_special;
    for (int b = 0; same_shape && b < dd.n_branches; b++) same_shape = dd.branches[b].n_points == dg.branches[b].n_points;
    ab_check(t, same_shape, "%s: same branches and rows (%d branches, %d special points; GMRES %d, %d)", spec->path,
             dd.n_branches, dd.n_special, dg.n_branches, dg.n_special);
    double worst = 0.0;
    int same_types = 1;
    for (int b = 0; same_shape && b < dd.n_branches; b++)
        for (int i = 0; i < dd.branches[b].n_points; i++) {
            const ab_branch_point *p = &dd.branches[b].points[i], *q = &dg.branches[b].points[i];
            worst = fmax(worst, fabs(p->kappa - q->kappa) / fmax(1.0, fabs(p->kappa)));
            worst = fmax(worst, fabs(p->beta - q->beta) / fmax(1.0, fabs(p->beta)));
            worst = fmax(worst, fmax(fabs(p->r - q->r), fabs(p->S - q->S)));
            same_types = same_types && p->label == q->label && p->n_unstable == q->n_unstable;
        }
    double worst_state = 0.0;
    for (int s = 0; same_shape && s < dd.n_special; s++) {
        const ab_special_point *p = &dd.special[s], *q = &dg.special[s];
        worst = fmax(worst, fabs(p->kappa - q->kappa) / fmax(1.0, fabs(p->kappa)));
        worst = fmax(worst, fabs(p->beta - q->beta) / fmax(1.0, fabs(p->beta)));
        same_types = same_types && p->type == q->type && p->criticality == q->criticality;
        /* the whole state u at the special point, relative to its size */
        if (p->x && q->x && p->dim == q->dim) {
            double scale = 1.0, diff = 0.0;
            for (size_t i = 0; i < p->dim; i++) {
                scale = fmax(scale, fabs(p->x[i]));
                diff = fmax(diff, fabs(p->x[i] - q->x[i]));
            }
            worst_state = fmax(worst_state, diff / scale);
        } else {
            worst_state = INFINITY;
        }
    }
    ab_check(t, same_shape && worst_state <= PATHS_TOL,
             "%s: the states u at the special points agree to %.0e relative to max|u| (worst %.1e)", spec->path, PATHS_TOL,
             worst_state);
    ab_check(t, same_shape && same_types, "%s: same labels, stability counts and criticalities", spec->path);
    ab_check(t, same_shape && worst <= PATHS_TOL, "%s: every continuation point and special point agrees to %.0e (worst %.1e)",
             spec->path, PATHS_TOL, worst);
    ab_diagram_free(&dd);
    ab_diagram_free(&dg);
}

/* The spec's solver settings reach the solvers: a different step_grow changes the rows of
 * a diagram (and nothing else), and a GMRES starved of iterations fails the solve. */
static void check_settings(ab_tally *t)
{
    ab_spec a, b;
    ab_error err = {0};
    ab_diagram da, db;
    ab_run_opts opts = {NULL};
    if (ab_spec_load("problems/default.yaml", &a, &err)) return;
    b = a;
    b.continuation.tolerances.step_grow = 1.2;
    ab_status sa = ab_run_diagram(&a, &opts, &da, &err), sb = ab_run_diagram(&b, &opts, &db, &err);
    int rows_a = 0, rows_b = 0;
    for (int i = 0; i < da.n_branches; i++) rows_a += da.branches[i].n_points;
    for (int i = 0; i < db.n_branches; i++) rows_b += db.branches[i].n_points;
    double worst = 0.0;
    for (int i = 0; sa == AB_OK && sb == AB_OK && i < da.n_special && i < db.n_special; i++)
        if (da.special[i].type != AB_SP_END) worst = fmax(worst, fabs(da.special[i].kappa - db.special[i].kappa));
    ab_check(t, sa == AB_OK && sb == AB_OK && rows_a != rows_b && da.n_special == db.n_special && worst < 1e-10,
             "continuation.tolerances.step_grow 1.5 -> 1.2: %d -> %d rows, the same special points (worst %.1e)", rows_a,
             rows_b, worst);
    ab_diagram_free(&da);
    ab_diagram_free(&db);
    ab_spec c;
    if (ab_spec_load("problems/sa-d3-beta4-cluster.yaml", &c, &err)) return;
    c.linear_solver.type = AB_LINSOL_GMRES;
    c.linear_solver.params.max_iter = 1;
    ab_solve_result res;
    ab_status st = ab_solve_problem(&c, NULL, NULL, &res, &err);
    ab_check(t, st == AB_ENOCONV && strstr(err.msg, "GMRES"), "solve with linear_solver {gmres, max_iter: 1} fails: %s",
             err.msg);
    if (st == AB_OK) ab_solve_result_free(&res);
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    for (size_t i = 0; i < sizeof problems / sizeof problems[0]; i++) {
        ab_spec spec;
        ab_error err = {0};
        if (!ab_check(&t, ab_spec_load(problems[i], &spec, &err) == AB_OK, "%s loads: %s", problems[i], err.msg))
            continue;
        check_newton(&t, &spec);
        /* and from a cluster guess at the sharp end of the window, where Newton takes
         * several steps (most specs start at the uniform state, already a solution) */
        ab_spec sharp = spec;
        sharp.state.type = AB_STATE_CLUSTER;
        sharp.state.r = 0.6; /* a plain vMF guess: Newton takes several steps from it */
        if (spec.continuation.present && spec.continuation.parameter == AB_PARAM_KAPPA)
            sharp.kappa = 1.25 * spec.continuation.min;
        snprintf(sharp.path, sizeof sharp.path, "%.900s (vMF guess r = 0.6 at kappa %g)", spec.path, sharp.kappa);
        check_newton(&t, &sharp);
        if (spec.continuation.present) check_diagram(&t, &spec);
    }
    check_settings(&t);
    return ab_finish(&t);
}

/* Spectral convergence in the number of nodes: r and the residual of the N-node solution,
 * interpolated onto a 256-node grid, decay geometrically (table in docs/convergence.md). */
#include "attnbif/results.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    ab_disc *disc;
    double *u;
    ab_observables obs;
} solved;

static int solve_at(const char *model, int d, double beta, double kappa, int nodes, solved *s)
{
    char yaml[256];
    snprintf(yaml, sizeof yaml, "model: %s\nd: %d\nbeta: %g\nkappa: %g\ndiscretization: {nodes: %d}\nstate: {type: cluster}\n",
             model, d, beta, kappa, nodes);
    ab_spec spec;
    ab_error err = {0};
    ab_newton *nw;
    ab_newton_report rep;
    if (ab_spec_parse_string(yaml, "conv.yaml", &spec, &err) || ab_disc_create_from_spec(&spec, &s->disc, &err)) return 0;
    s->u = malloc(sizeof(double) * nodes);
    ab_newton_create((size_t)nodes, &nw, &err);
    ab_newton_opts opts = {1e-13, 60, NULL, NULL};
    int ok = ab_disc_initial_guess(s->disc, &spec.state, s->u, &err) == AB_OK &&
             ab_newton_solve(nw, s->disc, s->u, &opts, &rep, &err) == AB_OK &&
             ab_disc_observables(s->disc, s->u, &s->obs, &err) == AB_OK;
    ab_newton_destroy(nw);
    if (!ok) fprintf(stderr, "solve failed at %d nodes: %s\n", nodes, err.msg);
    return ok;
}

static void release(solved *s)
{
    ab_disc_destroy(s->disc);
    free(s->u);
}

/* Residual of the 256-node equation at the N-node solution's interpolant. */
static double interpolated_residual(solved *coarse, solved *fine, int n_fine)
{
    ab_profile nodes, plot;
    ab_error err = {0};
    ab_disc_profile(fine->disc, fine->u, 2, &nodes, &plot, &err);
    double *rho = malloc(sizeof(double) * n_fine), *F = malloc(sizeof(double) * n_fine), res = 0.0;
    ab_disc_density_at(coarse->disc, coarse->u, n_fine, nodes.t, rho, &err);
    for (int i = 0; i < n_fine; i++) rho[i] = log(rho[i]);
    ab_disc_residual(fine->disc, rho, F, &err);
    for (int i = 0; i < n_fine; i++) res = fmax(res, fabs(F[i]));
    free(rho); free(F);
    ab_profile_free(&nodes); ab_profile_free(&plot);
    return res;
}

static void study(ab_tally *t, const char *model, int d, double beta, double kappa, double floor_tol)
{
    const int ns[] = {8, 12, 16, 24, 32, 48, 64, 96};
    const int count = 8, n_ref = 256;
    solved ref;
    if (!ab_check(t, solve_at(model, d, beta, kappa, n_ref, &ref), "%s reference solve at 256 nodes", model)) return;
    printf("\n%s d=%d beta=%g kappa=%g (reference r = %.15f at %d nodes)\n| nodes | abs err r | residual on 256-node grid |\n|---|---|---|\n",
           model, d, beta, kappa, ref.obs.r, n_ref);
    double err_r[8], err_res[8];
    for (int i = 0; i < count; i++) {
        solved s;
        if (!solve_at(model, d, beta, kappa, ns[i], &s)) { err_r[i] = err_res[i] = INFINITY; continue; }
        err_r[i] = fabs(s.obs.r - ref.obs.r);
        err_res[i] = interpolated_residual(&s, &ref, n_ref);
        printf("| %d | %.2e | %.2e |\n", ns[i], err_r[i], err_res[i]);
        release(&s);
    }
    /* Geometric decay: until the rounding floor is reached, every step in N at least
     * halves both errors, and the finest grids sit on the floor. */
    for (int i = 0; i + 1 < count; i++) {
        if (err_res[i] > floor_tol)
            ab_check(t, err_res[i + 1] <= 0.5 * err_res[i], "%s kappa=%g residual decays: %d -> %d nodes (%.2e -> %.2e)",
                     model, kappa, ns[i], ns[i + 1], err_res[i], err_res[i + 1]);
        if (err_r[i] > floor_tol)
            ab_check(t, err_r[i + 1] <= 0.5 * err_r[i], "%s kappa=%g r error decays: %d -> %d nodes (%.2e -> %.2e)", model,
                     kappa, ns[i], ns[i + 1], err_r[i], err_r[i + 1]);
    }
    ab_check(t, err_r[count - 1] <= floor_tol && err_res[count - 1] <= floor_tol,
             "%s kappa=%g: at %d nodes r and the residual are at the rounding floor (%.1e)", model, kappa, ns[count - 1], floor_tol);
    release(&ref);
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    study(&t, "SA", 3, 4.0, 0.1, 1e-11);
    study(&t, "SA", 3, 4.0, 0.03, 1e-11);
    study(&t, "USA", 3, 2.0, 0.1, 1e-11);
    return ab_finish(&t);
}

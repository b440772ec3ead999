/* One-call stationary solve for a spec: guess -> Newton -> checks -> observables ->
 * spectrum -> profiles (what `attnbif solve` and the tests run). */
#include "attnbif/results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A state is uniform (to the solver's accuracy) when both order parameters vanish. */
static int looks_uniform(const ab_observables *obs)
{
    return fabs(obs->r) < 1e-6 && fabs(obs->S) < 1e-6;
}

ab_status ab_initial_state(ab_disc *disc, const ab_state_spec *state, double *u, ab_error *err)
{
    if (state->type != AB_STATE_FILE) return ab_disc_initial_guess(disc, state, u, err);
    int n;
    double *t, *rho;
    ab_status st = ab_read_profile(state->path, &n, &t, &rho, err);
    if (st) return st;
    st = ab_disc_guess_from_samples(disc, n, t, rho, u, err);
    free(t);
    free(rho);
    return st;
}

void ab_solve_result_free(ab_solve_result *res)
{
    ab_spectrum_free(&res->spectrum);
    ab_profile_free(&res->nodes);
    ab_profile_free(&res->fine);
}

ab_status ab_solve_problem(const ab_spec *spec, void (*progress)(void *, int, double, double),
                           void *progress_ctx, ab_solve_result *res, ab_error *err)
{
    memset(res, 0, sizeof *res);
    res->spec = spec;
    ab_disc *disc = NULL;
    ab_newton *newton = NULL;
    ab_eigensolver *eig = NULL;
    double *u = NULL;
    ab_status st = ab_disc_create_from_spec(spec, &disc, err);
    if (st) return st;
    size_t n = ab_disc_dim(disc);
    u = malloc(sizeof(double) * n);
    if (!u) { st = ab_error_set(err, AB_ENOMEM, "out of memory"); goto done; }
    if ((st = ab_newton_create(n, &newton, err))) goto done;
    if ((st = ab_initial_state(disc, &spec->state, u, err))) goto done;
    ab_newton_opts opts = {spec->newton.tol, spec->newton.max_iter, progress, progress_ctx};
    if ((st = ab_newton_solve(newton, disc, u, &opts, &res->newton, err))) goto done;
    if ((st = ab_disc_observables(disc, u, &res->obs, err))) goto done;
    if (spec->state.type == AB_STATE_CLUSTER || spec->state.type == AB_STATE_ANTIPODAL) {
        if (looks_uniform(&res->obs)) {
            const ab_model *m = &spec->model;
            st = ab_error_set(err, AB_ENOCONV,
                              "the %s guess converged to the uniform state: no such state was found at "
                              "kappa = %g (the uniform state loses stability at kappa_1 = %.10g, kappa_2 = %.10g); "
                              "try a smaller kappa",
                              ab_state_type_name(spec->state.type), spec->kappa,
                              ab_kappa_l(m->kind, m->d, m->beta, 1), ab_kappa_l(m->kind, m->d, m->beta, 2));
            goto done;
        }
        if (spec->state.type == AB_STATE_CLUSTER && res->obs.r < 1e-6) {
            st = ab_error_set(err, AB_ENOCONV,
                              "the cluster guess converged to a state with no polar order (r = %.3g, S = %.3g): "
                              "not a 1-cluster; try a smaller kappa", res->obs.r, res->obs.S);
            goto done;
        }
    }
    res->disc_name = ab_disc_name(disc);
    res->params = ab_disc_params(disc);
    int max_dim = (int)n;
    if ((st = ab_eigensolver_create(max_dim, &eig, err))) goto done;
    if ((st = ab_spectrum_compute(eig, disc, u, spec->sectors, spec->n_sectors, &res->spectrum, err))) goto done;
    if ((st = ab_disc_profile(disc, u, 721, &res->nodes, &res->fine, err))) goto done;
done:
    if (st) ab_solve_result_free(res);
    ab_eigensolver_destroy(eig);
    ab_newton_destroy(newton);
    free(u);
    /* disc_name points into disc: keep a static description instead. */
    if (!st) res->disc_name = spec->disc.type == AB_DISC_ZONAL ? "zonal (Gauss-Jacobi nodes)" : "?";
    ab_disc_destroy(disc);
    return st;
}

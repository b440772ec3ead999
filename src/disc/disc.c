/* Dispatch of the discretisation interface to the concrete discretisation, and the
 * discretisation's view as a problem object (docs/library.md, "Problems"). */
#include "disc/disc_impl.h"

#include "core/problem_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the problem view: parameters are (kappa, beta) ---------------------------------- */

static const char *const param_names[] = {"kappa", "beta"};

static ab_status p_set_params(void *ctx, const double *params, ab_error *err)
{
    ab_disc *d = ctx;
    ab_params p = {params[AB_PARAM_KAPPA], params[AB_PARAM_BETA]};
    if (!(p.kappa > 0.0) || !isfinite(p.kappa)) return ab_error_set(err, AB_EINVAL, "kappa must be > 0 (got %g)", p.kappa);
    if (!(p.beta >= 0.0) || !isfinite(p.beta)) return ab_error_set(err, AB_EINVAL, "beta must be >= 0 (got %g)", p.beta);
    return d->ops->set_params(d, p, err);
}
static ab_status p_residual(void *ctx, const double *u, double *F, ab_error *err)
{
    ab_disc *d = ctx;
    return d->ops->residual(d, u, F, err);
}
static ab_status p_linearize(void *ctx, const double *u, ab_error *err)
{
    ab_disc *d = ctx;
    return d->ops->linearize(d, u, err);
}
static ab_status p_jac_apply(void *ctx, const double *v, double *Jv, ab_error *err)
{
    ab_disc *d = ctx;
    return d->ops->jac_apply(d, v, Jv, err);
}
static ab_status p_jac_apply_t(void *ctx, const double *v, double *Jv, ab_error *err)
{
    ab_disc *d = ctx;
    return d->ops->jac_apply_transpose(d, v, Jv, err);
}
static ab_status p_jac_matrix(void *ctx, double *J, size_t ld, ab_error *err)
{
    ab_disc *d = ctx;
    return d->ops->jac_matrix(d, J, ld, err);
}
static ab_status p_dparam(void *ctx, const double *u, int which, double *dF, ab_error *err)
{
    ab_disc *d = ctx;
    return d->ops->dparam(d, u, (ab_param_id)which, dF, err);
}
static const double *p_weights(void *ctx) { return ((ab_disc *)ctx)->ops->weights(ctx); }
/* Newton's stopping tolerance at the current state: the requested tolerance relative to
 * the size of the terms in F, but never below what the kernel evaluation can achieve there
 * (docs/theory.md, "Newton"). */
static double p_tolerance(void *ctx, double tol)
{
    const ab_disc *d = ctx;
    return fmax(tol * d->ops->residual_scale(d), AB_DISC_FLOOR_FACTOR * d->ops->residual_floor(d));
}

static ab_status p_symmetry(void *ctx, const double *u, int k, double *g, ab_error *err)
{
    ab_disc *d = ctx;
    return d->ops->symmetry(d, u, k, g, err);
}

static ab_status p_precond(void *ctx, const double *r, double *z, ab_error *err)
{
    ab_disc *d = ctx;
    return d->ops->precond_apply(d, r, z, err);
}

static const ab_problem_ops disc_problem_ops = {
    .name = "mean-field stationary problem",
    .n_params = 2,
    .param_names = param_names,
    .set_params = p_set_params,
    .residual = p_residual,
    .linearize = p_linearize,
    .jac_apply = p_jac_apply,
    .jac_apply_transpose = p_jac_apply_t,
    .jac_matrix = p_jac_matrix,
    .dparam = p_dparam,
    .weights = p_weights,
    .tolerance = p_tolerance,
    .n_symmetries = 0,
    .symmetry = NULL,
};

ab_status ab_disc_init(ab_disc *disc, ab_error *err)
{
    const double params[2] = {disc->params.kappa, disc->params.beta};
    disc->problem_ops = disc_problem_ops;
    if (disc->ops->n_symmetries > 0) {
        disc->problem_ops.n_symmetries = disc->ops->n_symmetries;
        disc->problem_ops.symmetry = p_symmetry;
    }
    if (disc->ops->precond_apply) disc->problem_ops.precond_apply = p_precond;
    return ab_problem_create(&disc->problem_ops, disc, disc->dim, params, &disc->problem, err);
}

ab_problem *ab_disc_problem(ab_disc *disc) { return disc->problem; }
const char *ab_disc_kind(const ab_disc *disc) { return disc->ops->kind; }
const double *ab_disc_weights(const ab_disc *disc) { return disc->ops->weights(disc); }
int ab_disc_max_degree(const ab_disc *disc) { return disc->ops->max_degree(disc); }
int ab_disc_size(const ab_disc *disc) { return disc->ops->size(disc); }
ab_status ab_disc_rotation_residual(ab_disc *disc, const double *u, double *residual, double *floor, ab_error *err)
{
    return disc->ops->rotation_residual(disc, u, residual, floor, err);
}
int ab_disc_sector_followable(const ab_disc *disc, int sector) { return disc->ops->sector_followable(disc, sector); }
ab_status ab_disc_load_state(ab_disc *disc, const char *path, double *u, ab_error *err)
{
    return disc->ops->load_state(disc, path, u, err);
}

void ab_disc_destroy(ab_disc *disc)
{
    if (!disc) return;
    ab_problem_destroy(disc->problem);
    disc->problem = NULL;
    disc->ops->destroy(disc);
}

const char *ab_disc_name(const ab_disc *disc) { return disc->ops->name(disc); }
size_t ab_disc_dim(const ab_disc *disc) { return disc->dim; }
const ab_model *ab_disc_model(const ab_disc *disc) { return &disc->model; }
ab_params ab_disc_params(const ab_disc *disc) { return disc->params; }

ab_status ab_disc_set_params(ab_disc *disc, ab_params params, ab_error *err)
{
    if (!(params.kappa > 0.0) || !isfinite(params.kappa))
        return ab_error_set(err, AB_EINVAL, "kappa must be > 0 (got %g)", params.kappa);
    if (!(params.beta >= 0.0) || !isfinite(params.beta))
        return ab_error_set(err, AB_EINVAL, "beta must be >= 0 (got %g)", params.beta);
    ab_status st = disc->ops->set_params(disc, params, err);
    if (!st && disc->problem) {
        const double values[2] = {params.kappa, params.beta};
        ab_problem_sync_params(disc->problem, values);
    }
    return st;
}

ab_status ab_disc_residual(ab_disc *disc, const double *u, double *F, ab_error *err)
{
    return disc->ops->residual(disc, u, F, err);
}

ab_status ab_disc_jacobian(ab_disc *disc, const double *u, double *J, ab_error *err)
{
    ab_status st = disc->ops->linearize(disc, u, err);
    return st ? st : disc->ops->jac_matrix(disc, J, disc->dim, err);
}

ab_status ab_disc_dparam(ab_disc *disc, const double *u, ab_param_id which, double *dF, ab_error *err)
{
    return disc->ops->dparam(disc, u, which, dF, err);
}

double ab_disc_dot(const ab_disc *disc, const double *x, const double *y) { return disc->ops->dot(disc, x, y); }
void ab_disc_reflect(const ab_disc *disc, const double *in, double *out) { disc->ops->reflect(disc, in, out); }
ab_status ab_disc_resolution(ab_disc *disc, const double *u, double *tail, int *nodes_needed, ab_error *err)
{
    return disc->ops->resolution(disc, u, tail, nodes_needed, err);
}
ab_status ab_disc_transfer(ab_disc *disc, ab_disc *src, const double *u_src, double *u, ab_error *err)
{
    return disc->ops->transfer(disc, src, u_src, u, err);
}

ab_status ab_disc_accuracy_at(ab_disc *disc, const double *u, ab_disc_accuracy *acc, ab_error *err)
{
    return disc->ops->accuracy(disc, u, acc, err);
}
ab_status ab_disc_guess_from_samples(ab_disc *disc, int n, const double *t, const double *rho, double *u,
                                     ab_error *err)
{
    return disc->ops->guess_from_samples(disc, n, t, rho, u, err);
}

double ab_disc_residual_scale(const ab_disc *disc) { return disc->ops->residual_scale(disc); }
double ab_disc_residual_floor(const ab_disc *disc) { return disc->ops->residual_floor(disc); }

ab_status ab_disc_observables(ab_disc *disc, const double *u, ab_observables *obs, ab_error *err)
{
    return disc->ops->observables(disc, u, obs, err);
}

ab_status ab_disc_initial_guess(ab_disc *disc, const ab_state_spec *state, double *u, ab_error *err)
{
    return disc->ops->initial_guess(disc, state, u, err);
}

int ab_disc_max_sector(const ab_disc *disc) { return disc->ops->max_sector(disc); }

ab_status ab_disc_sector_operator(ab_disc *disc, const double *u, int sector, ab_sector_op *op,
                                  ab_error *err)
{
    if (sector < 0 || sector > ab_disc_max_sector(disc))
        return ab_error_set(err, AB_EINVAL, "sector %d does not exist (0..%d)", sector, ab_disc_max_sector(disc));
    memset(op, 0, sizeof *op);
    return disc->ops->sector_operator(disc, u, sector, op, err);
}

ab_status ab_disc_profile(ab_disc *disc, const double *u, int n_fine, ab_profile *nodes,
                          ab_profile *fine, ab_error *err)
{
    return disc->ops->profile(disc, u, n_fine, nodes, fine, err);
}

ab_status ab_disc_density_at(ab_disc *disc, const double *u, int n, const double *t, double *rho,
                             ab_error *err)
{
    return disc->ops->density_at(disc, u, n, t, rho, err);
}

void ab_profile_free(ab_profile *profile)
{
    if (!profile) return;
    free(profile->t);
    free(profile->theta);
    free(profile->rho);
    profile->t = profile->theta = profile->rho = NULL;
    profile->n = 0;
}

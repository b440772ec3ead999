/* Dispatch of the discretisation interface to the concrete discretisation. */
#include "disc/disc_impl.h"

#include <math.h>
#include <stdlib.h>

ab_status ab_disc_create_from_spec(const ab_spec *spec, ab_disc **out, ab_error *err)
{
    if (spec->disc.nodes == AB_NODES_AUTO)
        return ab_error_set(err, AB_EINVAL, "nodes: auto is chosen per state: use ab_disc_create_with_nodes");
    return ab_disc_create_with_nodes(spec, spec->disc.nodes, out, err);
}

ab_status ab_disc_create_with_nodes(const ab_spec *spec, int nodes, ab_disc **out, ab_error *err)
{
    ab_status st = ab_model_validate(&spec->model, err);
    if (st) return st;
    if (!(spec->kappa > 0.0) || !isfinite(spec->kappa))
        return ab_error_set(err, AB_EINVAL, "kappa must be > 0 (got %g)", spec->kappa);
    ab_params params = {spec->kappa, spec->model.beta};
    switch (spec->disc.type) {
    case AB_DISC_ZONAL: return ab_zonal_create(&spec->model, params, nodes, spec->disc.kernel, out, err);
    }
    return ab_error_set(err, AB_EINVAL, "unknown discretisation type");
}

void ab_disc_destroy(ab_disc *disc)
{
    if (disc) disc->ops->destroy(disc);
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
    return disc->ops->set_params(disc, params, err);
}

ab_status ab_disc_residual(ab_disc *disc, const double *u, double *F, ab_error *err)
{
    return disc->ops->residual(disc, u, F, err);
}

ab_status ab_disc_jacobian(ab_disc *disc, const double *u, double *J, ab_error *err)
{
    return disc->ops->jacobian(disc, u, J, err);
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

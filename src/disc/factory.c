/* The discretisation a spec asks for: the one place that knows every concrete kind. */
#include "attnbif/spec.h"

#include "disc/sphere.h"
#include "disc/zonal.h"

#include <math.h>

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
    case AB_DISC_SPHERE: return ab_sphere_create(&spec->model, params, nodes, spec->disc.kernel, out, err);
    }
    return ab_error_set(err, AB_EINVAL, "unknown discretisation type");
}


size_t ab_disc_dim_for(ab_disc_type type, int nodes)
{
    switch (type) {
    case AB_DISC_ZONAL: return nodes > 0 ? (size_t)nodes : 0; /* one unknown per node */
    case AB_DISC_SPHERE: return nodes > 0 ? (size_t)(nodes + 1) * (size_t)(2 * nodes + 2) : 0; /* the grid */
    }
    return 0;
}

/* Writers for the results of `attnbif solve`: state.csv, spectrum.csv, summary.json. */
#include "attnbif/results.h"

#include "io/sphere_map.h"

#include <math.h>
#include <stdio.h>

void ab_json_spec(ab_json *j, const ab_spec *spec)
{
    ab_json_begin_object(j);
    ab_json_kv_int(j, "version", spec->version);
    ab_json_kv_string(j, "name", spec->name);
    ab_json_kv_string(j, "model", ab_model_kind_name(spec->model.kind));
    ab_json_kv_int(j, "d", spec->model.d);
    ab_json_kv_number(j, "beta", spec->model.beta);
    ab_json_kv_number(j, "kappa", spec->kappa);
    ab_json_key(j, "discretization");
    ab_json_begin_object(j);
    ab_json_kv_string(j, "type", ab_disc_type_name(spec->disc.type));
    ab_json_kv_string(j, "kernel", spec->disc.kernel == AB_KERNEL_AUTO ? "auto"
                                   : spec->disc.kernel == AB_KERNEL_FUNK_HECKE ? "funk-hecke" : "log-domain");
    const int sphere = spec->disc.type == AB_DISC_SPHERE;
    if (spec->disc.nodes == AB_NODES_AUTO) {
        ab_json_kv_string(j, sphere ? "degree" : "nodes", "auto");
        ab_json_kv_int(j, sphere ? "degree_max" : "nodes_max", spec->disc.nodes_max);
    } else {
        ab_json_kv_int(j, sphere ? "degree" : "nodes", spec->disc.nodes);
    }
    ab_json_end_object(j);
    ab_json_key(j, "state");
    ab_json_begin_object(j);
    ab_json_kv_string(j, "type", ab_state_type_name(spec->state.type));
    if (spec->state.r > 0.0) ab_json_kv_number(j, "r", spec->state.r);
    if (spec->state.type == AB_STATE_LABEL) {
        ab_json_kv_string(j, "path", spec->state.path);
        ab_json_kv_string(j, "label", spec->state.label);
    }
    if (spec->state.type == AB_STATE_CLUSTERS && spec->state.arrangement[0]) {
        ab_json_kv_string(j, "arrangement", spec->state.arrangement);
        if (spec->state.k > 0) ab_json_kv_int(j, "k", spec->state.k);
    }
    if (spec->state.type == AB_STATE_CLUSTERS && spec->state.n_centres > 0) {
        ab_json_key(j, "centers");
        ab_json_begin_array(j);
        for (int c = 0; c < spec->state.n_centres; c++) {
            ab_json_begin_array(j);
            for (int k = 0; k < 3; k++) ab_json_number(j, spec->state.centres[c][k]);
            ab_json_end_array(j);
        }
        ab_json_end_array(j);
        ab_json_key(j, "weights");
        ab_json_begin_array(j);
        for (int c = 0; c < spec->state.n_centres; c++) ab_json_number(j, spec->state.weights[c]);
        ab_json_end_array(j);
    }
    if (spec->state.type == AB_STATE_PERTURB) {
        ab_json_kv_int(j, "l", spec->state.l);
        ab_json_kv_number(j, "amplitude", spec->state.amplitude);
    }
    ab_json_end_object(j);
    ab_json_key(j, "eigen");
    ab_json_begin_object(j);
    ab_json_key(j, "sectors");
    ab_json_begin_array(j);
    for (int i = 0; i < spec->n_sectors; i++) ab_json_int(j, spec->sectors[i]);
    ab_json_end_array(j);
    ab_json_end_object(j);
    ab_json_key(j, "newton");
    ab_json_begin_object(j);
    ab_json_kv_number(j, "tol", spec->newton.tol);
    ab_json_kv_int(j, "max_iter", spec->newton.max_iter);
    ab_json_end_object(j);
    ab_json_key(j, "output");
    ab_json_begin_object(j);
    ab_json_kv_string(j, "dir", spec->output_dir);
    ab_json_end_object(j);
    ab_json_key(j, "limits");
    ab_json_begin_object(j);
    ab_json_kv_number(j, "time_minutes", spec->limits.time_minutes);
    ab_json_kv_number(j, "memory_gb", spec->limits.memory_gb);
    ab_json_kv_bool(j, "enforce", spec->limits.enforce);
    ab_json_end_object(j);
    ab_json_kv_string(j, "file", spec->path);
    ab_json_end_object(j);
}

void ab_json_clusters(ab_json *j, const ab_cluster *clusters, int n)
{
    ab_json_begin_array(j);
    for (int c = 0; c < n; c++) {
        const ab_cluster *cl = &clusters[c];
        ab_json_begin_object(j);
        ab_json_key(j, "centre");
        ab_json_begin_array(j);
        for (int k = 0; k < 3; k++) ab_json_number(j, cl->centre[k]);
        ab_json_end_array(j);
        ab_json_kv_number(j, "mass", cl->mass);
        ab_json_kv_number(j, "mass_error", cl->mass_error);
        ab_json_kv_number(j, "peak", cl->peak);
        ab_json_kv_number(j, "prominence", cl->prominence);
        ab_json_end_object(j);
    }
    ab_json_end_array(j);
}

void ab_json_summary_header(ab_json *j, const char *command, const ab_spec *spec)
{
    ab_json_kv_string(j, "program", "attnbif");
    ab_json_kv_string(j, "version", ab_version());
    ab_json_kv_string(j, "command", command);
    ab_json_key(j, "spec");
    ab_json_spec(j, spec);
}

static ab_status write_state(const char *dir, const ab_solve_result *res, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "state.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    /* grid = node: the discretisation's own Gauss-Jacobi nodes (exact values);
     * grid = plot: spectral interpolation on a uniform theta grid. */
    fprintf(out, "grid,t,theta,rho\n");
    for (int i = 0; i < res->nodes.n; i++)
        fprintf(out, "node,%.17g,%.17g,%.17g\n", res->nodes.t[i], res->nodes.theta[i], res->nodes.rho[i]);
    for (int i = 0; i < res->fine.n; i++)
        fprintf(out, "plot,%.17g,%.17g,%.17g\n", res->fine.t[i], res->fine.theta[i], res->fine.rho[i]);
    return ab_file_commit(f, err);
}

static ab_status write_spectrum_csv(const char *dir, const ab_spectrum *sp, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "spectrum.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    fprintf(out, "sector,re,im,multiplicity,kind,err\n");
    for (int i = 0; i < sp->count; i++) {
        const ab_eigenvalue *e = &sp->values[i];
        fprintf(out, "%d,%.17g,%.17g,%ld,%s,%.3g\n", e->sector, e->re, e->im, e->multiplicity, ab_eig_kind_name(e->kind),
                e->err);
    }
    return ab_file_commit(f, err);
}

static ab_status write_summary(const char *dir, const ab_solve_result *res, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "summary.json", &f, err);
    if (st) return st;
    ab_json *j = ab_json_create(ab_file_stream(f));
    if (!j) { ab_file_abort(f); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    const ab_model *m = &res->spec->model;
    ab_json_begin_object(j);
    ab_json_summary_header(j, "solve", res->spec);
    ab_json_kv_string(j, "discretization", res->disc_name);
    ab_json_kv_number(j, "kappa", res->params.kappa);
    ab_json_kv_number(j, "beta", res->params.beta);
    ab_json_key(j, "newton");
    ab_json_begin_object(j);
    ab_json_kv_int(j, "iterations", res->newton.iterations);
    ab_json_kv_number(j, "residual", res->newton.residual);
    ab_json_kv_number(j, "tolerance", res->newton.tolerance);
    ab_json_kv_bool(j, "converged", res->newton.converged);
    ab_json_end_object(j);
    /* How far the numbers can be trusted (docs/theory.md, "Adaptive resolution"). */
    const ab_resolution *rs = &res->resolution;
    ab_json_key(j, "resolution");
    ab_json_begin_object(j);
    ab_json_kv_int(j, "nodes", rs->nodes);
    ab_json_kv_int(j, "refinements", rs->refinements);
    ab_json_kv_number(j, "spectral_tail", rs->tail);
    /* the limit applied: nodes: auto refines to the target, a fixed count is held to the
     * looser limit beyond which a state is refused */
    const int auto_nodes = res->spec->disc.nodes == AB_NODES_AUTO;
    ab_json_kv_number(j, "spectral_tail_limit",
                      auto_nodes ? fmax(AB_RESOLUTION_TAIL, AB_NEWTON_FLOOR_FACTOR * rs->kernel_error) : AB_RESOLUTION_TAIL_MAX);
    ab_json_kv_string(j, "kernel", rs->kernel);
    ab_json_kv_number(j, "kernel_error", rs->kernel_error);
    ab_json_kv_number(j, "kernel_error_limit", AB_RESOLUTION_KERNEL);
    ab_json_key(j, "rotation_residual");
    if (isfinite(rs->rotation_eigenvalue)) ab_json_number(j, rs->rotation_eigenvalue);
    else ab_json_null(j);
    ab_json_kv_number(j, "rotation_residual_limit", rs->rotation_tol);
    ab_json_key(j, "r_change_from_previous_resolution");
    if (isfinite(rs->r_change)) ab_json_number(j, rs->r_change);
    else ab_json_null(j);
    ab_json_end_object(j);
    ab_json_key(j, "observables");
    ab_json_begin_object(j);
    ab_json_kv_number(j, "r", res->obs.r);
    ab_json_kv_number(j, "S", res->obs.S);
    ab_json_kv_number(j, "entropy", res->obs.entropy);
    ab_json_key(j, "free_energy");
    if (m->kind == AB_MODEL_USA) ab_json_number(j, res->obs.free_energy);
    else ab_json_null(j);
    ab_json_kv_number(j, "residual", res->newton.residual);
    ab_json_end_object(j);
    /* The analytic critical noises of the uniform state, for orientation. */
    ab_json_key(j, "kappa_l");
    ab_json_begin_array(j);
    for (int l = 1; l <= 4; l++) {
        ab_json_begin_object(j);
        ab_json_kv_int(j, "l", l);
        ab_json_kv_number(j, "kappa", ab_kappa_l(m->kind, m->d, res->params.beta, l));
        ab_json_end_object(j);
    }
    ab_json_end_array(j);
    /* every null above has its reason here (docs/cli.md) */
    ab_json_key(j, "notes");
    ab_json_begin_array(j);
    if (m->kind != AB_MODEL_USA)
        ab_json_string(j, "free_energy is null: it is defined for USA only (docs/cli.md)");
    for (int l = 1; l <= 4; l++)
        if (!isfinite(ab_kappa_l(m->kind, m->d, res->params.beta, l))) {
            char note[120];
            snprintf(note, sizeof note, "kappa_l is null from l = %d: it overflows double precision at this beta", l);
            ab_json_string(j, note);
            break;
        }
    ab_json_end_array(j);
    if (res->map) {
        /* the whole sphere: the clusters (docs/sphere.md, "Clusters") */
        ab_json_kv_int(j, "n_clusters", res->n_clusters);
        ab_json_key(j, "clusters");
        ab_json_clusters(j, res->clusters, res->n_clusters);
    }
    ab_json_kv_bool(j, "stable", res->spectrum.stable);
    ab_json_kv_int(j, "n_unstable", res->spectrum.n_unstable);
    ab_json_kv_int(j, "n_slow", res->spectrum.n_slow);
    ab_json_key(j, "spectrum");
    ab_json_begin_array(j);
    for (int i = 0; i < res->spectrum.count; i++) {
        const ab_eigenvalue *e = &res->spectrum.values[i];
        ab_json_begin_object(j);
        ab_json_kv_int(j, "sector", e->sector);
        ab_json_kv_number(j, "re", e->re);
        ab_json_kv_number(j, "im", e->im);
        ab_json_kv_int(j, "multiplicity", e->multiplicity);
        ab_json_kv_string(j, "kind", ab_eig_kind_name(e->kind));
        ab_json_kv_number(j, "err", e->err);
        ab_json_end_object(j);
    }
    ab_json_end_array(j);
    ab_json_end_object(j);
    ab_json_destroy(j);
    return ab_file_commit(f, err);
}

/* The whole sphere: the density on a longitude-latitude map, as a table and a picture. */
static ab_status write_map(const char *dir, const ab_solve_result *res, ab_error *err)
{
    ab_sphere_map_opts o;
    ab_sphere_map_opts_default(&o);
    o.model = ab_model_kind_name(res->spec->model.kind);
    o.beta = res->params.beta;
    o.kappa = res->params.kappa;
    o.r = res->obs.r;
    o.clusters = res->clusters;
    o.n_clusters = res->n_clusters;
    return ab_sphere_map_write(dir, "density_map.csv", "density_map.svg", res->map_nlat, res->map_nlon, res->map, &o, err);
}

ab_status ab_write_solve_result(const char *dir, const ab_solve_result *res, ab_error *err)
{
    ab_status st = ab_mkdir_p(dir, err);
    if (!st && res->map) st = write_map(dir, res, err);
    if (!st) st = write_state(dir, res, err);
    if (!st) st = write_spectrum_csv(dir, &res->spectrum, err);
    if (!st) st = write_summary(dir, res, err);
    return st;
}

/* One-call stationary solve for a spec: guess -> Newton -> checks -> observables ->
 * spectrum -> profiles (what `attnbif solve` and the tests run). */
#include "attnbif/state.h"

#include "attnbif/label.h"
#include "disc/sphere.h"

#include "spec/limits.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A state is uniform (to the solver's accuracy) when both order parameters vanish. */
/* r and S vanish at symmetric k-cluster states too (a tetrahedron has neither polar nor
 * nematic order), so the entropy, -int rho log rho ~ -|rho - 1|^2 / 2, must be small as well
 * (a k-cluster state has entropy of order -1). */
static int looks_uniform(const ab_observables *obs)
{
    return fabs(obs->r) < AB_UNIFORM_ORDER_TOL && fabs(obs->S) < AB_UNIFORM_ORDER_TOL &&
           fabs(obs->entropy) < AB_UNIFORM_ORDER_TOL;
}

/* A label's u, on a discretisation of the label's size (ab_spec_apply_label gives the spec
 * the label's node count). */
static ab_status label_guess(ab_disc *disc, const ab_state_spec *state, double *u, ab_error *err)
{
    ab_label lab;
    ab_status st = ab_label_read(state->path, state->label, &lab, err);
    if (st) return st;
    const size_t n = ab_disc_dim(disc);
    if (lab.dim != n)
        st = ab_error_set(err, AB_EINVAL, "label %s has %zu unknowns, the discretisation %zu: apply the label to the spec "
                          "first (ab_spec_apply_label)", state->label, lab.dim, n);
    else memcpy(u, lab.x, sizeof(double) * n);
    ab_label_free(&lab);
    return st;
}

ab_status ab_initial_state(ab_disc *disc, const ab_state_spec *state, double *u, ab_error *err)
{
    if (state->type == AB_STATE_LABEL) return label_guess(disc, state, u, err);
    if (state->type != AB_STATE_FILE) return ab_disc_initial_guess(disc, state, u, err);
    return ab_disc_load_state(disc, state->path, u, err);
}

void ab_solve_result_free(ab_solve_result *res)
{
    ab_spectrum_free(&res->spectrum);
    ab_profile_free(&res->nodes);
    ab_profile_free(&res->fine);
    free(res->map);
    res->map = NULL;
}

/* Is the state at u resolved? Fills the resolution record; *ok = 1 when every criterion
 * holds (docs/theory.md, "Adaptive resolution"). */
static ab_status check_resolution(ab_disc *disc, const double *u, int nonuniform,
                                  ab_resolution *rs, int *ok, int *acceptable, ab_error *err)
{
    ab_disc_accuracy acc;
    ab_status st = ab_disc_accuracy_at(disc, u, &acc, err);
    if (st) return st;
    rs->nodes = ab_disc_size(disc);
    rs->unstable_degree = 0;
    rs->tail = acc.tail;
    rs->nodes_needed = acc.nodes_needed;
    rs->kernel = acc.kernel;
    rs->kernel_error = acc.kernel_error;
    const ab_model *m = ab_disc_model(disc);
    rs->rotation_eigenvalue = NAN;
    rs->rotation_tol = AB_RESOLUTION_ROTATION * ab_disc_params(disc).kappa * (m->d - 1);
    if (nonuniform) {
        /* The rotation (Goldstone) vectors are exact null vectors of the continuous
         * operator: how far the discrete operator is from annihilating them measures how well
         * it is resolved. It cannot fall below the rounding of M g. */
        double floor = 0.0;
        if ((st = ab_disc_rotation_residual(disc, u, &rs->rotation_eigenvalue, &floor, err))) return st;
        rs->rotation_tol = fmax(rs->rotation_tol, floor);
    }
    const double rot_scale = ab_disc_params(disc).kappa * (m->d - 1);
    if (!nonuniform) {
        /* At the uniform state every degree l with kappa_l > kappa is unstable: the grid must
         * hold the highest of them (with AB_RESOLUTION_DEGREE_MARGIN to spare), or the count
         * of unstable eigenvalues is short. */
        const double kappa = ab_disc_params(disc).kappa;
        int lmax = 0;
        for (int l = 1; l <= AB_NODES_MAX_SCAN && ab_kappa_l(m->kind, m->d, m->beta, l) > kappa; l++) lmax = l;
        if (lmax + AB_RESOLUTION_DEGREE_MARGIN > rs->nodes) {
            rs->nodes_needed = rs->nodes_needed > lmax + 2 * AB_RESOLUTION_DEGREE_MARGIN ? rs->nodes_needed
                                                                                          : lmax + 2 * AB_RESOLUTION_DEGREE_MARGIN;
            rs->tail = fmax(rs->tail, 1.0); /* reported as unresolved: the spectrum is cut */
            rs->unstable_degree = lmax;
        }
    }
    /* the tail cannot be measured below the kernel's own error: that is its floor */
    *ok = rs->tail <= fmax(AB_RESOLUTION_TAIL, AB_NEWTON_FLOOR_FACTOR * rs->kernel_error) &&
          rs->kernel_error <= AB_RESOLUTION_KERNEL &&
          !(fabs(rs->rotation_eigenvalue) > rs->rotation_tol);
    *acceptable = rs->tail <= AB_RESOLUTION_TAIL_MAX && rs->kernel_error <= AB_RESOLUTION_KERNEL &&
                  !(fabs(rs->rotation_eigenvalue) > fmax(AB_RESOLUTION_ROTATION_MAX * rot_scale, rs->rotation_tol));
    return AB_OK;
}

/* "128 nodes" (zonal) or "degree 48" (sphere), for messages. */
static void size_phrase(int sphere, int size, char *buf, size_t cap)
{
    if (sphere) snprintf(buf, cap, "degree %d", size);
    else snprintf(buf, cap, "%d nodes", size);
}

/* Round a node count up to a multiple of 8. */
static int round_nodes(int n) { return (n + 7) / 8 * 8; }

/* A progress line, if anyone listens. */
static void say(const ab_solve_opts *opts, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void say(const ab_solve_opts *opts, const char *fmt, ...)
{
    if (!opts || !opts->message) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    opts->message(opts->ctx, line);
}

ab_status ab_resolve_state(const ab_spec *spec, void (*progress)(void *, int, double, double), void *progress_ctx,
                           ab_disc **disc_out, double **u_out, ab_newton_report *report, ab_resolution *rs,
                           ab_error *err)
{
    const ab_solve_opts opts = {progress, NULL, progress_ctx};
    return ab_resolve_state_with(spec, &opts, disc_out, u_out, report, rs, err);
}

ab_status ab_resolve_state_with(const ab_spec *spec, const ab_solve_opts *sopts, ab_disc **disc_out, double **u_out,
                                ab_newton_report *report, ab_resolution *rs, ab_error *err)
{
    void (*progress)(void *, int, double, double) = sopts ? sopts->progress : NULL;
    void *progress_ctx = sopts ? sopts->ctx : NULL;
    *disc_out = NULL;
    *u_out = NULL;
    memset(rs, 0, sizeof *rs);
    rs->r_change = NAN;
    const int auto_nodes = spec->disc.nodes == AB_NODES_AUTO;
    /* the zonal grid is sized by its node count, the sphere's by its degree */
    const int sphere = spec->disc.type == AB_DISC_SPHERE;
    const char *sz = sphere ? "degree" : "nodes", *szmax = sphere ? "degree_max" : "nodes_max";
    int nodes = auto_nodes ? (sphere ? AB_SPHERE_DEGREE_AUTO_START : AB_NODES_AUTO_START) : spec->disc.nodes;
    if (auto_nodes && nodes > spec->disc.nodes_max) nodes = spec->disc.nodes_max;
    ab_disc *disc = NULL, *prev = NULL;
    double *u = NULL, *u_prev = NULL, r_prev = NAN;
    ab_newton *newton = NULL;
    ab_status st = AB_OK;
    for (;;) {
        rs->refinements++;
        if (auto_nodes && (st = ab_limits_check_nodes(spec, nodes, err))) break;
        if ((st = ab_disc_create_with_nodes(spec, nodes, &disc, err))) break;
        const size_t n = ab_disc_dim(disc);
        if (!(u = malloc(sizeof(double) * n))) { st = ab_error_set(err, AB_ENOMEM, "out of memory"); break; }
        if ((st = ab_newton_create_with(n, ab_spec_linsol_type(spec, n), &spec->linear_solver.params, &newton, err))) break;
        int from_prev = prev != NULL;
        if (from_prev) st = ab_disc_transfer(disc, prev, u_prev, u, err);
        else st = ab_initial_state(disc, &spec->state, u, err);
        if (st) break;
        ab_newton_opts opts = {spec->newton.tol, spec->newton.max_iter, progress, progress_ctx};
        st = ab_newton_solve(newton, disc, u, &opts, report, err);
        if (st == AB_ENOCONV && auto_nodes && from_prev) {
            /* the coarser state may have been a poor start: the spec's guess at this grid */
            say(sopts, "  resolution: %s %d, Newton failed from the coarser state; from the guess", sz, nodes);
            if (!(st = ab_initial_state(disc, &spec->state, u, err))) st = ab_newton_solve(newton, disc, u, &opts, report, err);
        }
        if (st) {
            /* On a grid too coarse for the state Newton may find nothing: with nodes: auto
             * that is one more reason to refine (from the spec's guess again). */
            if (!(auto_nodes && st == AB_ENOCONV && nodes < spec->disc.nodes_max)) break;
            say(sopts, "  resolution: %s %d, Newton failed (%.300s); refining", sz, nodes, err->msg);
            st = AB_OK;
            ab_disc_destroy(disc);
            free(u);
            ab_newton_destroy(newton);
            ab_disc_destroy(prev);
            free(u_prev);
            disc = prev = NULL;
            u = u_prev = NULL;
            newton = NULL;
            r_prev = NAN;
            nodes = 2 * nodes < spec->disc.nodes_max ? 2 * nodes : spec->disc.nodes_max;
            continue;
        }
        ab_observables obs;
        if ((st = ab_disc_observables(disc, u, &obs, err))) break;
        const int nonuniform = !looks_uniform(&obs);
        int ok, acceptable;
        if ((st = check_resolution(disc, u, nonuniform, rs, &ok, &acceptable, err))) break;
        if (isfinite(r_prev)) rs->r_change = fabs(obs.r - r_prev);
        say(sopts, "  resolution: %s %d, spectral tail %.1e, rotation residual %.1e (limit %.1e), %s kernel error %.1e",
            sz, nodes, rs->tail, rs->rotation_eigenvalue, rs->rotation_tol, rs->kernel, rs->kernel_error);
        if (ok || (!auto_nodes && acceptable)) break;
        if (!auto_nodes || nodes >= spec->disc.nodes_max) {
            if (rs->unstable_degree > 0) {
                const int need_u = rs->unstable_degree + 2 * AB_RESOLUTION_DEGREE_MARGIN;
                char have[32], want[32];
                size_phrase(sphere, nodes, have, sizeof have);
                size_phrase(sphere, need_u, want, sizeof want);
                st = ab_error_set(err, AB_ENOCONV,
                                  "the uniform state has unstable modes up to degree %d (kappa_%d > kappa = %g): %s "
                                  "cannot hold them all; it needs about %s (discretization: {%s: auto, %s: %d})",
                                  rs->unstable_degree, rs->unstable_degree, spec->kappa, have, want, sz, szmax, need_u);
                break;
            }
            const int need = round_nodes(rs->nodes_needed > 3 * nodes / 2 ? rs->nodes_needed : 3 * nodes / 2);
            char have[32], want[32];
            size_phrase(sphere, nodes, have, sizeof have);
            size_phrase(sphere, need, want, sizeof want);
            st = ab_error_set(err, AB_ENOCONV,
                              "the state is not resolved with %s (spectral tail %.2g, limit %.0e; rotation "
                              "residual %.2g, limit %.2g; kernel error %.2g, limit %.0e): it needs about %s "
                              "(discretization: {%s: auto, %s: %d})",
                              have, rs->tail, auto_nodes ? AB_RESOLUTION_TAIL : AB_RESOLUTION_TAIL_MAX,
                              rs->rotation_eigenvalue,
                              auto_nodes ? rs->rotation_tol
                                         : fmax(rs->rotation_tol, AB_RESOLUTION_ROTATION_MAX * ab_disc_params(disc).kappa *
                                                                      (spec->model.d - 1)),
                              rs->kernel_error, AB_RESOLUTION_KERNEL, want, sz, szmax, need);
            break;
        }
        /* at most double: the decay-rate estimate is poor until the spectrum decays */
        int next = rs->nodes_needed > 3 * nodes / 2 ? rs->nodes_needed : 3 * nodes / 2;
        if (next > 2 * nodes) next = 2 * nodes;
        next = round_nodes(next);
        if (next > spec->disc.nodes_max) next = spec->disc.nodes_max;
        r_prev = obs.r;
        ab_disc_destroy(prev);
        free(u_prev);
        prev = disc;
        u_prev = u;
        disc = NULL;
        u = NULL;
        ab_newton_destroy(newton);
        newton = NULL;
        nodes = next;
    }
    ab_disc_destroy(prev);
    free(u_prev);
    ab_newton_destroy(newton);
    if (st) {
        ab_disc_destroy(disc);
        free(u);
        return st;
    }
    *disc_out = disc;
    *u_out = u;
    return AB_OK;
}

ab_status ab_choose_run_nodes(const ab_spec *spec, int *nodes, ab_error *err)
{
    ab_disc *disc = NULL;
    double *u = NULL;
    ab_newton_report rep;
    ab_resolution rs;
    ab_status st = ab_resolve_state(spec, NULL, NULL, &disc, &u, &rep, &rs, err);
    if (st) return st;
    ab_disc_destroy(disc);
    free(u);
    *nodes = rs.nodes;
    /* States sharpen towards small kappa and large beta: resolve a cluster (and an antipodal
     * state) at that end of the window too, where they exist, and take the largest count. */
    const ab_continuation_spec *cs = &spec->continuation;
    ab_spec *far = malloc(sizeof *far);
    if (!far) return ab_error_set(err, AB_ENOMEM, "out of memory");
    for (int kind = 0; kind < 2; kind++) {
        *far = *spec;
        if (cs->parameter == AB_PARAM_KAPPA) far->kappa = cs->min;
        else far->model.beta = cs->max;
        memset(&far->state, 0, sizeof far->state);
        far->state.type = kind == 0 ? AB_STATE_CLUSTER : AB_STATE_ANTIPODAL;
        ab_error scratch = {0};
        if (ab_resolve_state(far, NULL, NULL, &disc, &u, &rep, &rs, &scratch) == AB_OK) {
            if (rs.nodes > *nodes) *nodes = rs.nodes;
        } else if (strstr(scratch.msg, "not resolved")) {
            /* the sharpest state of the window cannot be resolved: say so now, not mid-run */
            st = ab_error_set(err, AB_ENOCONV, "at the far end of the window (%s = %g), the %s state: %s",
                              cs->parameter == AB_PARAM_KAPPA ? "kappa" : "beta",
                              cs->parameter == AB_PARAM_KAPPA ? far->kappa : far->model.beta,
                              ab_state_type_name(far->state.type), scratch.msg);
            free(far);
            return st;
        }
        ab_disc_destroy(disc);
        free(u);
        disc = NULL;
        u = NULL;
    }
    free(far);
    return AB_OK;
}

ab_status ab_solve_problem(const ab_spec *spec, void (*progress)(void *, int, double, double),
                           void *progress_ctx, ab_solve_result *res, ab_error *err)
{
    const ab_solve_opts opts = {progress, NULL, progress_ctx};
    return ab_solve_problem_with(spec, &opts, res, err);
}

ab_status ab_solve_problem_with(const ab_spec *spec, const ab_solve_opts *opts, ab_solve_result *res, ab_error *err)
{
    memset(res, 0, sizeof *res);
    res->spec = spec;
    ab_disc *disc = NULL;
    ab_eigensolver *eig = NULL;
    double *u = NULL;
    ab_status st = ab_resolve_state_with(spec, opts, &disc, &u, &res->newton, &res->resolution, err);
    if (st) return st;
    size_t n = ab_disc_dim(disc);
    if ((st = ab_disc_observables(disc, u, &res->obs, err))) goto done;
    if (spec->state.type == AB_STATE_CLUSTER && spec->state.r == 0.0 && looks_uniform(&res->obs) &&
        spec->kappa < ab_kappa_l(spec->model.kind, spec->model.d, spec->model.beta, 1)) {
        /* Below kappa_1 a cluster exists, but the default guess (the beta = 0 profile) can be
         * too flat to reach it (USA at large beta): try sharper guesses of given r. */
        static const double r_tries[] = {0.9, 0.99, 0.999, 0.9999};
        ab_spec *retry = malloc(sizeof *retry);
        if (!retry) { st = ab_error_set(err, AB_ENOMEM, "out of memory"); goto done; }
        for (size_t k = 0; k < sizeof r_tries / sizeof r_tries[0]; k++) {
            *retry = *spec;
            retry->state.r = r_tries[k];
            ab_disc *d2 = NULL;
            double *u2 = NULL;
            ab_newton_report rep2;
            ab_resolution rs2;
            ab_observables obs2;
            ab_error scratch = {0};
            if (ab_resolve_state(retry, NULL, NULL, &d2, &u2, &rep2, &rs2, &scratch) == AB_OK &&
                ab_disc_observables(d2, u2, &obs2, &scratch) == AB_OK && !looks_uniform(&obs2)) {
                ab_disc_destroy(disc);
                free(u);
                disc = d2;
                u = u2;
                n = ab_disc_dim(disc);
                res->newton = rep2;
                res->resolution = rs2;
                res->obs = obs2;
                break;
            }
            ab_disc_destroy(d2);
            free(u2);
        }
        free(retry);
    }
    if (spec->state.type == AB_STATE_CLUSTER || spec->state.type == AB_STATE_ANTIPODAL) {
        const ab_model *m = &spec->model;
        if (looks_uniform(&res->obs)) {
            st = ab_error_set(err, AB_ENOCONV,
                              "the %s guess converged to the uniform state: no such state was found at "
                              "kappa = %g (the uniform state loses stability at kappa_1 = %.10g, kappa_2 = %.10g); "
                              "try a smaller kappa, or a guess with its polar order (state.r)",
                              ab_state_type_name(spec->state.type), spec->kappa,
                              ab_kappa_l(m->kind, m->d, m->beta, 1), ab_kappa_l(m->kind, m->d, m->beta, 2));
            goto done;
        }
        if (spec->state.type == AB_STATE_CLUSTER && res->obs.r < AB_UNIFORM_ORDER_TOL) {
            st = ab_error_set(err, AB_ENOCONV,
                              "the cluster guess converged to a state with no polar order (r = %.3g, S = %.3g): "
                              "not a 1-cluster; try a smaller kappa", res->obs.r, res->obs.S);
            goto done;
        }
        if (spec->state.type == AB_STATE_ANTIPODAL && res->obs.r > AB_ANTIPODAL_MAX_R) {
            st = ab_error_set(err, AB_ENOCONV,
                              "the antipodal guess converged to a state with polar order r = %.6g (S = %.6g): a "
                              "1-cluster, not an antipodal 2-cluster (whose r is 0); at kappa = %g the antipodal "
                              "state may not exist (it is born at kappa_2 = %.10g): follow it with `attnbif run`",
                              res->obs.r, res->obs.S, spec->kappa, ab_kappa_l(m->kind, m->d, m->beta, 2));
            goto done;
        }
    }
    if (spec->state.type == AB_STATE_CLUSTERS && looks_uniform(&res->obs)) {
        st = ab_error_set(err, AB_ENOCONV,
                          "the clusters guess converged to the uniform state: no such state was found at kappa = %g "
                          "(the uniform state loses stability at kappa_1 = %.10g); try a smaller kappa",
                          spec->kappa, ab_kappa_l(spec->model.kind, 3, spec->model.beta, 1));
        goto done;
    }
    snprintf(res->disc_name, sizeof res->disc_name, "%s", ab_disc_name(disc));
    res->params = ab_disc_params(disc);
    if ((st = ab_eigensolver_create((int)n, &eig, err))) goto done;
    if ((st = ab_spectrum_compute(eig, disc, u, spec->sectors, spec->n_sectors, &res->spectrum, err))) goto done;
    if ((st = ab_disc_profile(disc, u, 721, &res->nodes, &res->fine, err))) goto done;
    if (ab_sphere_is(disc)) {
        /* the whole sphere: its clusters and a map of the density (docs/sphere.md) */
        int found = 0;
        res->map_nlat = AB_SOLVE_MAP_NLAT;
        res->map_nlon = AB_SOLVE_MAP_NLON;
        res->map = malloc(sizeof(double) * (size_t)res->map_nlat * (size_t)res->map_nlon);
        if (!res->map) { st = ab_error_set(err, AB_ENOMEM, "out of memory for the density map"); goto done; }
        if ((st = ab_sphere_map(disc, u, res->map_nlat, res->map_nlon, res->map, err))) goto done;
        st = ab_sphere_clusters(disc, u, res->clusters, AB_MAX_CLUSTERS, &found, err);
        if (st == AB_EINVAL && found > AB_MAX_CLUSTERS) st = AB_OK; /* the AB_MAX_CLUSTERS largest are kept */
        if (st) goto done;
        res->n_clusters = found < AB_MAX_CLUSTERS ? found : AB_MAX_CLUSTERS;
        const int asked = ab_state_cluster_count(&spec->state);
        if (asked > 0 && found != asked) {
            /* a guess that lands on another kind of state is an error naming what was found */
            st = ab_error_set(err, AB_ENOCONV,
                              "the clusters guess (%d clusters) converged to a state with %d cluster%s (r = %.6g, S = "
                              "%.6g): at kappa = %g that arrangement may not exist or may not be reachable from its "
                              "guess; follow it from where it exists with `attnbif run`",
                              asked, found, found == 1 ? "" : "s", res->obs.r, res->obs.S, spec->kappa);
            goto done;
        }
    }
done:
    if (st) ab_solve_result_free(res);
    ab_eigensolver_destroy(eig);
    free(u);
    ab_disc_destroy(disc);
    return st;
}

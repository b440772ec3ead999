/* Problem spec version 1: YAML file -> validated ab_spec with defaults filled in
 * (every key is documented in docs/spec.md). */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/spec.h"
#include "attnbif/io.h"

#include "spec/limits.h"
#include "spec/spec_sim.h"
#include "spec/yaml_util.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define AB_NODES_MIN 8
#define AB_NODES_MAX 4096
#define AB_D_MAX 4096

static const ab_range POSITIVE = {0.0, INFINITY, 1, 0};
static const ab_range NONNEGATIVE = {0.0, INFINITY, 0, 0};

int ab_spec_max_nodes(const ab_spec *spec)
{
    return spec->disc.nodes == AB_NODES_AUTO ? spec->disc.nodes_max : spec->disc.nodes;
}

const char *ab_state_type_name(ab_state_type type)
{
    static const char *const names[] = {"uniform", "cluster", "antipodal", "perturb", "file", "label", "clusters"};
    return (unsigned)type <= AB_STATE_CLUSTERS ? names[type] : "?";
}

int ab_label_name_valid(const char *name)
{
    static const char *const kinds[] = {"LP", "BP", "HB", "EP"};
    int kind_ok = 0;
    for (int k = 0; k < 4; k++) kind_ok |= strncmp(name, kinds[k], 2) == 0;
    if (!kind_ok || name[2] < '1' || name[2] > '9') return 0;
    size_t len = 3 + strspn(name + 3, "0123456789");
    return name[len] == '\0' && len < AB_LABEL_NAME_MAX;
}

const char *ab_disc_type_name(ab_disc_type type)
{
    return type == AB_DISC_ZONAL ? "zonal" : type == AB_DISC_SPHERE ? "sphere" : "?";
}

/* A required key: fail naming the mapping where it is missing. */
static ab_status require(ab_yctx *ctx, const yaml_node_t *map, const char *key, const char *field)
{
    if (ab_y_get(ctx, map, key)) return AB_OK;
    return ab_y_fail(ctx, map, field, "required key is missing");
}

static ab_status parse_discretization(ab_yctx *ctx, const yaml_node_t *node, ab_spec *spec)
{
    spec->disc.type = AB_DISC_ZONAL;
    spec->disc.nodes = AB_NODES_AUTO;
    spec->disc.nodes_max = AB_NODES_MAX_DEFAULT;
    spec->disc.kernel = AB_KERNEL_AUTO;
    if (!node) return AB_OK;
    static const char *const keys[] = {"type", "nodes", "nodes_max", "degree", "degree_max", "kernel", NULL};
    static const char *const types[] = {"zonal", "sphere", NULL};
    static const char *const kernels[] = {"auto", "funk-hecke", "log-domain", NULL};
    int type, has_max, kernel;
    long nodes = AB_NODES_AUTO, nodes_max;
    ab_status st = ab_y_check_map(ctx, node, "discretization", keys);
    if (!st) st = ab_y_enum(ctx, node, "type", "discretization.type", 0, types, &type, NULL);
    if (!st) st = ab_y_enum(ctx, node, "kernel", "discretization.kernel", AB_KERNEL_AUTO, kernels, &kernel, NULL);
    if (st) return st;
    /* the zonal grid is sized by nodes, the sphere's by its harmonic degree */
    const int sphere = type == AB_DISC_SPHERE;
    const char *size_key = sphere ? "degree" : "nodes", *max_key = sphere ? "degree_max" : "nodes_max";
    const char *wrong[] = {sphere ? "nodes" : "degree", sphere ? "nodes_max" : "degree_max"};
    for (int k = 0; k < 2; k++)
        if (ab_y_get(ctx, node, wrong[k]))
            return ab_y_fail(ctx, ab_y_get(ctx, node, wrong[k]), sphere ? "discretization.nodes" : "discretization.degree",
                             "%s: a %s discretisation is sized by %s (and %s)", wrong[k], sphere ? "sphere" : "zonal",
                             size_key, max_key);
    char size_field[40], max_field[40];
    snprintf(size_field, sizeof size_field, "discretization.%s", size_key);
    snprintf(max_field, sizeof max_field, "discretization.%s", max_key);
    const long lo = sphere ? 1 : AB_NODES_MIN, hi = sphere ? AB_SPHERE_DEGREE_MAX : AB_NODES_MAX;
    const long max_default = sphere ? AB_SPHERE_DEGREE_MAX_DEFAULT : AB_NODES_MAX_DEFAULT;
    const yaml_node_t *nn = ab_y_get(ctx, node, size_key);
    if (!(nn && nn->type == YAML_SCALAR_NODE && strcmp((const char *)nn->data.scalar.value, "auto") == 0))
        st = ab_y_int(ctx, node, size_key, size_field, AB_NODES_AUTO, lo, hi, &nodes, NULL);
    if (!st) st = ab_y_int(ctx, node, max_key, max_field, max_default, lo, hi, &nodes_max, &has_max);
    if (st) return st;
    if (has_max && nodes != AB_NODES_AUTO)
        return ab_y_fail(ctx, ab_y_get(ctx, node, max_key), max_field, "only allowed with %s: auto", size_key);
    if (sphere && spec->model.d != 3)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "type"), "discretization.type",
                         "sphere discretises S^2 and needs d: 3 (got d = %d); use type: zonal", spec->model.d);
    if (sphere && kernel == AB_KERNEL_LOG_DOMAIN && spec->model.kind != AB_MODEL_SA)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "kernel"), "discretization.kernel",
                         "the sphere's log-domain kernel is for SA; use auto or funk-hecke (docs/sphere.md)");
    spec->disc.type = (ab_disc_type)type;
    spec->disc.kernel = (ab_kernel_form)kernel;
    spec->disc.nodes = (int)nodes;
    spec->disc.nodes_max = (int)nodes_max;
    return AB_OK;
}

/* state.centers (a list of 3-vectors) and state.weights for type: clusters. */
static ab_status parse_centres(ab_yctx *ctx, const yaml_node_t *node, ab_state_spec *state)
{
    yaml_node_t *list = ab_y_get(ctx, node, "centers");
    if (list->type != YAML_SEQUENCE_NODE || ab_y_seq_len(list) < 1)
        return ab_y_fail(ctx, list, "state.centers", "expected a list of points [x, y, z]");
    const int n = ab_y_seq_len(list);
    if (n > AB_MAX_CLUSTERS) return ab_y_fail(ctx, list, "state.centers", "at most %d centres", AB_MAX_CLUSTERS);
    ab_status st;
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = ab_y_seq_item(ctx, list, i);
        if (item->type != YAML_SEQUENCE_NODE || ab_y_seq_len(item) != 3)
            return ab_y_fail(ctx, item, "state.centers", "centre %d: expected a point [x, y, z]", i + 1);
        double norm = 0.0;
        for (int k = 0; k < 3; k++) {
            if ((st = ab_y_node_double(ctx, ab_y_seq_item(ctx, item, k), "state.centers", &state->centres[i][k]))) return st;
            norm += state->centres[i][k] * state->centres[i][k];
        }
        norm = sqrt(norm);
        if (!(norm > 1e-12) || !isfinite(norm))
            return ab_y_fail(ctx, item, "state.centers", "centre %d is not a direction (length %g)", i + 1, norm);
        for (int k = 0; k < 3; k++) state->centres[i][k] /= norm;
    }
    state->n_centres = n;
    for (int i = 0; i < n; i++) state->weights[i] = 1.0;
    yaml_node_t *w = ab_y_get(ctx, node, "weights");
    if (!w) return AB_OK;
    if (w->type != YAML_SEQUENCE_NODE || ab_y_seq_len(w) != n)
        return ab_y_fail(ctx, w, "state.weights", "expected a list of %d positive numbers, one per centre", n);
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = ab_y_seq_item(ctx, w, i);
        if ((st = ab_y_node_double(ctx, item, "state.weights", &state->weights[i]))) return st;
        if (!(state->weights[i] > 0.0) || !isfinite(state->weights[i]))
            return ab_y_fail(ctx, item, "state.weights", "weight %d must be positive and finite (got %g)", i + 1,
                             state->weights[i]);
    }
    return AB_OK;
}

/* state.arrangement (with k for polygon) or state.centers (with weights) for type: clusters. */
static ab_status parse_clusters(ab_yctx *ctx, const yaml_node_t *node, ab_spec *spec)
{
    ab_state_spec *state = &spec->state;
    static const char *const arrangements[] = {"polygon", "tetrahedron", "octahedron", "cube", "icosahedron", NULL};
    const yaml_node_t *an = ab_y_get(ctx, node, "arrangement"), *cn = ab_y_get(ctx, node, "centers");
    if (spec->disc.type != AB_DISC_SPHERE)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "type"), "state.type",
                         "clusters are not axisymmetric: they need discretization: {type: sphere}");
    if (!an == !cn)
        return ab_y_fail(ctx, node, an ? "state.centers" : "state.arrangement",
                         an ? "give either arrangement or centers, not both" : "required with type: clusters "
                         "(arrangement: polygon, tetrahedron, octahedron, cube or icosahedron; or centers: [[x, y, z], ...])");
    if (ab_y_get(ctx, node, "weights") && !cn)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "weights"), "state.weights", "only allowed with centers");
    long k = 0;
    int has_k, which = 0;
    ab_status st = ab_y_int(ctx, node, "k", "state.k", 0, 2, AB_MAX_CLUSTERS, &k, &has_k);
    if (st) return st;
    if (cn) {
        if (has_k) return ab_y_fail(ctx, ab_y_get(ctx, node, "k"), "state.k", "only allowed with arrangement: polygon");
        return parse_centres(ctx, node, state);
    }
    if ((st = ab_y_enum(ctx, node, "arrangement", "state.arrangement", 0, arrangements, &which, NULL))) return st;
    if (which == 0 && !has_k)
        return ab_y_fail(ctx, node, "state.k", "required with arrangement: polygon (the number of clusters, >= 2)");
    if (which != 0 && has_k)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "k"), "state.k", "only allowed with arrangement: polygon");
    snprintf(state->arrangement, sizeof state->arrangement, "%s", arrangements[which]);
    state->k = (int)k;
    return AB_OK;
}

static ab_status parse_state(ab_yctx *ctx, const yaml_node_t *node, ab_spec *spec)
{
    spec->state.type = AB_STATE_UNIFORM;
    spec->state.l = 0;
    spec->state.amplitude = 0.0;
    spec->state.switch_branch = 0;
    spec->state.arrangement[0] = '\0';
    spec->state.k = 0;
    spec->state.n_centres = 0;
    if (!node) return AB_OK;
    static const char *const keys[] = {"type", "l", "amplitude", "path", "r", "label", "switch",
                                       "arrangement", "k", "centers", "weights", NULL};
    static const char *const types[] = {"uniform", "cluster", "antipodal", "perturb", "file", "label", "clusters", NULL};
    int type, has_l, has_amp, has_path, has_r, has_label, has_switch, do_switch;
    long l;
    double amp, r;
    ab_status st = ab_y_check_map(ctx, node, "state", keys);
    if (!st) st = require(ctx, node, "type", "state.type");
    if (!st) st = ab_y_enum(ctx, node, "type", "state.type", 0, types, &type, NULL);
    if (!st) st = ab_y_int(ctx, node, "l", "state.l", 0, 1, ab_spec_max_nodes(spec) - 1, &l, &has_l);
    if (!st) st = ab_y_double(ctx, node, "amplitude", "state.amplitude", 0.0,
                              (ab_range){-1.0, 1.0, 1, 1}, &amp, &has_amp);
    if (!st) st = ab_y_string(ctx, node, "path", "state.path", "", spec->state.path, sizeof spec->state.path, &has_path);
    if (!st) st = ab_y_double(ctx, node, "r", "state.r", 0.0, (ab_range){0.0, 1.0, 1, 1}, &r, &has_r);
    if (!st) st = ab_y_string(ctx, node, "label", "state.label", "", spec->state.label, sizeof spec->state.label, &has_label);
    if (!st) st = ab_y_bool(ctx, node, "switch", "state.switch", 0, &do_switch, &has_switch);
    if (st) return st;
    if (type == AB_STATE_CLUSTERS) {
        if ((st = parse_clusters(ctx, node, spec))) return st;
    } else {
        static const char *const only_clusters[] = {"arrangement", "k", "centers", "weights"};
        for (int q = 0; q < 4; q++)
            if (ab_y_get(ctx, node, only_clusters[q])) {
                char field[32];
                snprintf(field, sizeof field, "state.%s", only_clusters[q]);
                return ab_y_fail(ctx, ab_y_get(ctx, node, only_clusters[q]), field, "only allowed with type: clusters");
            }
    }
    if (has_switch && type != AB_STATE_LABEL)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "switch"), "state.switch", "only allowed with type: label");
    spec->state.switch_branch = do_switch;
    if (has_r && type != AB_STATE_CLUSTER)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "r"), "state.r", "only allowed with type: cluster");
    spec->state.r = has_r ? r : 0.0;
    const int with_path = type == AB_STATE_FILE || type == AB_STATE_LABEL;
    if (with_path && !has_path)
        return ab_y_fail(ctx, node, "state.path", "required with type: %s", types[type]);
    if (!with_path && has_path)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "path"), "state.path", "only allowed with type: file or label");
    if (type == AB_STATE_LABEL && !has_label)
        return ab_y_fail(ctx, node, "state.label", "required with type: label (a label such as BP2, from the run's "
                         "special_points.csv)");
    if (type != AB_STATE_LABEL && has_label)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "label"), "state.label", "only allowed with type: label");
    if (do_switch && strncmp(spec->state.label, "BP", 2) != 0)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "switch"), "state.switch",
                         "only a branch point (BP) has other branches to switch to, not %s", spec->state.label);
    if (has_label && !ab_label_name_valid(spec->state.label))
        return ab_y_fail(ctx, ab_y_get(ctx, node, "label"), "state.label",
                         "'%s' is not a label: a label is LP, BP, HB or EP and a number from 1, e.g. BP2",
                         spec->state.label);
    spec->state.type = (ab_state_type)type;
    if (type == AB_STATE_PERTURB) {
        if (!has_l) return ab_y_fail(ctx, node, "state.l", "required with type: perturb");
        if (!has_amp) return ab_y_fail(ctx, node, "state.amplitude", "required with type: perturb");
        if (amp == 0.0)
            return ab_y_fail(ctx, ab_y_get(ctx, node, "amplitude"), "state.amplitude",
                             "must be non-zero (amplitude 0 is the uniform state)");
        spec->state.l = (int)l;
        spec->state.amplitude = amp;
    } else if (has_l || has_amp) {
        return ab_y_fail(ctx, ab_y_get(ctx, node, has_l ? "l" : "amplitude"),
                         has_l ? "state.l" : "state.amplitude", "only allowed with type: perturb");
    }
    return AB_OK;
}

static ab_status parse_eigen(ab_yctx *ctx, const yaml_node_t *node, ab_spec *spec)
{
    spec->n_sectors = 0;
    if (spec->disc.type == AB_DISC_SPHERE) {
        /* one operator on all of S^2: no sectors to choose */
        if (node && ab_y_get(ctx, node, "sectors"))
            return ab_y_fail(ctx, ab_y_get(ctx, node, "sectors"), "eigen.sectors",
                             "the sphere discretisation has one operator (the whole sphere), not zonal sectors: remove it");
        spec->sectors[spec->n_sectors++] = 0;
        return node ? ab_y_check_map(ctx, node, "eigen", (const char *const[]){"sectors", NULL}) : AB_OK;
    }
    /* Sectors m >= 2 do not exist on the circle (S^0 has harmonics of degree 0 and 1 only). */
    const int max_sector = spec->model.d == 2 ? 1 : ab_spec_max_nodes(spec) - 2;
    if (!node) {
        for (int m = 0; m <= 3 && m <= max_sector; m++) spec->sectors[spec->n_sectors++] = m;
        return AB_OK;
    }
    static const char *const keys[] = {"sectors", NULL};
    ab_status st = ab_y_check_map(ctx, node, "eigen", keys);
    if (st) return st;
    yaml_node_t *list = ab_y_get(ctx, node, "sectors");
    if (!list) {
        for (int m = 0; m <= 3 && m <= max_sector; m++) spec->sectors[spec->n_sectors++] = m;
        return AB_OK;
    }
    if (list->type != YAML_SEQUENCE_NODE) return ab_y_fail(ctx, list, "eigen.sectors", "expected a list of integers");
    int n = ab_y_seq_len(list);
    if (n > AB_MAX_SECTORS) return ab_y_fail(ctx, list, "eigen.sectors", "at most %d sectors", AB_MAX_SECTORS);
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = ab_y_seq_item(ctx, list, i);
        long m;
        if ((st = ab_y_node_int(ctx, item, "eigen.sectors", &m))) return st;
        if (m < 0 || m > max_sector)
            return ab_y_fail(ctx, item, "eigen.sectors", "sector %ld out of range: need 0 <= m <= %d%s", m,
                             max_sector, spec->model.d == 2 ? " (d = 2 has sectors 0 and 1 only)" : " (nodes - 2)");
        for (int j = 0; j < spec->n_sectors; j++)
            if (spec->sectors[j] == m) return ab_y_fail(ctx, item, "eigen.sectors", "sector %ld listed twice", m);
        spec->sectors[spec->n_sectors++] = (int)m;
    }
    /* A stability verdict is over the listed sectors only; without sector 0 (the zonal
     * modes: every degree l of the uniform state, folds, transcritical points) and sector 1
     * (the polar modes and the rotation) "stable" would mean nothing (docs/spec.md). */
    int has0 = 0, has1 = 0;
    for (int j = 0; j < spec->n_sectors; j++) { has0 |= spec->sectors[j] == 0; has1 |= spec->sectors[j] == 1; }
    if (!has0 || !has1)
        return ab_y_fail(ctx, list, "eigen.sectors", "%s: must include sectors 0 and 1, without which a stability "
                         "verdict is meaningless (default [0, 1, 2, 3])", n == 0 ? "empty list" : "incomplete list");
    return AB_OK;
}

static ab_spec_mark mark_of(const yaml_node_t *node)
{
    ab_spec_mark m = {0, 0};
    if (node) { m.line = (int)node->start_mark.line + 1; m.col = (int)node->start_mark.column + 1; }
    return m;
}

static ab_status parse_limits(ab_yctx *ctx, const yaml_node_t *node, ab_spec *spec)
{
    ab_limits_spec *l = &spec->limits;
    l->memory_gb = AB_LIMIT_MEMORY_GB;
    l->time_minutes = AB_LIMIT_TIME_MINUTES;
    l->enforce = 1;
    if (!node) return AB_OK;
    static const char *const keys[] = {"memory_gb", "time_minutes", "enforce", NULL};
    ab_status st = ab_y_check_map(ctx, node, "limits", keys);
    if (!st) st = ab_y_double(ctx, node, "memory_gb", "limits.memory_gb", AB_LIMIT_MEMORY_GB, POSITIVE, &l->memory_gb, NULL);
    if (!st) st = ab_y_double(ctx, node, "time_minutes", "limits.time_minutes", AB_LIMIT_TIME_MINUTES, POSITIVE,
                              &l->time_minutes, NULL);
    if (!st) st = ab_y_bool(ctx, node, "enforce", "limits.enforce", 1, &l->enforce, NULL);
    return st;
}

static ab_status parse_newton(ab_yctx *ctx, const yaml_node_t *node, ab_spec *spec)
{
    spec->newton.tol = 1e-11;
    spec->newton.max_iter = 50;
    if (!node) return AB_OK;
    static const char *const keys[] = {"tol", "max_iter", NULL};
    long iters;
    ab_status st = ab_y_check_map(ctx, node, "newton", keys);
    if (!st) st = ab_y_double(ctx, node, "tol", "newton.tol", 1e-11, (ab_range){1e-15, 1e-2, 0, 0}, &spec->newton.tol, NULL);
    if (!st) st = ab_y_int(ctx, node, "max_iter", "newton.max_iter", 50, 1, 10000, &iters, NULL);
    if (!st) spec->newton.max_iter = (int)iters;
    return st;
}

/* continuation.tolerances: each field of ab_cont_params by name (docs/continuation.md). */
#define TOL_D(name) {#name, offsetof(ab_cont_params, name), 0}
#define TOL_I(name) {#name, offsetof(ab_cont_params, name), 1}
static const struct {
    const char *key;
    size_t offset;
    int is_int;
} tolerance_fields[] = {
    TOL_D(step_grow), TOL_D(step_shrink), TOL_D(step_fail_shrink), TOL_I(fast_iterations), TOL_I(slow_iterations),
    TOL_D(state_weight), TOL_I(relative_state_norm), TOL_I(corrector_max_iter), TOL_D(corrector_divergence), TOL_D(min_turn_cos), TOL_D(check_min_factor),
    TOL_D(max_correction), TOL_D(max_correction_abs), TOL_D(locate_tol), TOL_I(locate_max_iter),
    TOL_D(fd_step_second), TOL_D(fd_step_third), TOL_D(fd_param_floor), TOL_D(zero_vector_tol), TOL_D(pitchfork_tol),
    TOL_D(degenerate_tol), TOL_D(mirror_tol), TOL_D(symmetric_state_tol), TOL_D(switch_min_factor),
    TOL_D(switch_fallback), TOL_D(same_event_tol), TOL_D(merge_tol), TOL_D(known_point_tol), TOL_D(known_point_obs_tol),
    TOL_D(near_point_tol), TOL_D(near_point_obs_tol), TOL_D(known_branch_tol), TOL_D(known_branch_abs),
    TOL_D(uniform_tol),
};
#undef TOL_D
#undef TOL_I
#define N_TOLERANCES (sizeof tolerance_fields / sizeof tolerance_fields[0])

static ab_status parse_tolerances(ab_yctx *ctx, const yaml_node_t *node, ab_continuation_spec *c)
{
    ab_cont_params *p = &c->tolerances;
    ab_cont_params_default(p);
    if (node) {
        const char *keys[N_TOLERANCES + 1];
        for (size_t i = 0; i < N_TOLERANCES; i++) keys[i] = tolerance_fields[i].key;
        keys[N_TOLERANCES] = NULL;
        ab_status st = ab_y_check_map(ctx, node, "continuation.tolerances", keys);
        for (size_t i = 0; i < N_TOLERANCES && !st; i++) {
            char field[96];
            snprintf(field, sizeof field, "continuation.tolerances.%s", tolerance_fields[i].key);
            char *at = (char *)p + tolerance_fields[i].offset;
            if (tolerance_fields[i].is_int) {
                long v;
                st = ab_y_int(ctx, node, tolerance_fields[i].key, field, *(int *)at, 0, 1000000, &v, NULL);
                if (!st) *(int *)at = (int)v;
            } else {
                /* a cosine may be negative (a turn beyond 90 degrees); everything else is > 0 */
                const ab_range cosine = {-1.0, 1.0, 1, 1};
                const int is_cos = strcmp(tolerance_fields[i].key, "min_turn_cos") == 0;
                st = ab_y_double(ctx, node, tolerance_fields[i].key, field, *(double *)at, is_cos ? cosine : POSITIVE,
                                 (double *)at, NULL);
            }
        }
        if (st) return st;
    }
    p->ds = c->ds;
    p->ds_min = c->ds_min;
    p->ds_max = c->ds_max;
    ab_error e = {0};
    if (ab_cont_params_check(p, &e)) {
        /* the check's message starts with the field that fails: point at its key */
        char field[96] = "continuation.tolerances";
        const yaml_node_t *where = node;
        for (size_t i = 0; i < N_TOLERANCES; i++) {
            const size_t len = strlen(tolerance_fields[i].key);
            if (strncmp(e.msg, tolerance_fields[i].key, len) == 0 && (e.msg[len] == ' ' || e.msg[len] == '\0')) {
                snprintf(field, sizeof field, "continuation.tolerances.%s", tolerance_fields[i].key);
                if (node && ab_y_get(ctx, node, tolerance_fields[i].key)) where = ab_y_get(ctx, node, tolerance_fields[i].key);
                break;
            }
        }
        return ab_y_fail(ctx, where, field, "%s", e.msg);
    }
    return AB_OK;
}

static ab_status parse_linear_solver(ab_yctx *ctx, const yaml_node_t *node, ab_spec *spec)
{
    ab_linear_solver_spec *ls = &spec->linear_solver;
    ab_linsol_params_default(&ls->params);
    ls->type = AB_LINSOL_AUTO;
    if (!node) return AB_OK;
    static const char *const keys[] = {"type", "rtol", "restart", "max_iter", "preconditioner", NULL};
    static const char *const types[] = {"auto", "dense", "gmres", NULL};
    static const char *const pcs[] = {"auto", "none", NULL};
    int type, pc;
    long restart, max_iter;
    const ab_range rtol_range = {0.0, 1e-6, 1, 0};
    ab_status st = ab_y_check_map(ctx, node, "linear_solver", keys);
    if (!st) st = ab_y_enum(ctx, node, "type", "linear_solver.type", 0, types, &type, NULL);
    if (!st) st = ab_y_double(ctx, node, "rtol", "linear_solver.rtol", ls->params.rtol, rtol_range, &ls->params.rtol, NULL);
    if (!st) st = ab_y_int(ctx, node, "restart", "linear_solver.restart", ls->params.restart, 1, 10000, &restart, NULL);
    if (!st) st = ab_y_int(ctx, node, "max_iter", "linear_solver.max_iter", ls->params.max_iter, 1, 10000000, &max_iter, NULL);
    if (!st) st = ab_y_enum(ctx, node, "preconditioner", "linear_solver.preconditioner", 0, pcs, &pc, NULL);
    if (st) return st;
    ls->params.precondition = pc == 0;
    ls->type = type == 0 ? AB_LINSOL_AUTO : (type == 1 ? AB_LINSOL_DENSE : AB_LINSOL_GMRES);
    ls->params.restart = (int)restart;
    ls->params.max_iter = (int)max_iter;
    return AB_OK;
}

ab_linsol_type ab_spec_linsol_type(const ab_spec *spec, size_t n)
{
    if (spec->linear_solver.type != AB_LINSOL_AUTO) return (ab_linsol_type)spec->linear_solver.type;
    return n <= AB_LINSOL_AUTO_DENSE_MAX ? AB_LINSOL_DENSE : AB_LINSOL_GMRES;
}

static ab_status parse_continuation(ab_yctx *ctx, const yaml_node_t *node, ab_spec *spec)
{
    ab_continuation_spec *c = &spec->continuation;
    memset(c, 0, sizeof *c);
    ab_cont_params_default(&c->tolerances);
    if (!node) return AB_OK;
    static const char *const keys[] = {"parameter", "min", "max", "direction", "ds", "ds_min", "ds_max",
                                       "max_steps", "switch_branches", "max_branches", "tolerances", "degrees", NULL};
    static const char *const params[] = {"kappa", "beta", NULL};
    const ab_range any = {-INFINITY, INFINITY, 0, 0};
    long dir, steps, branches;
    ab_status st = ab_y_check_map(ctx, node, "continuation", keys);
    if (!st) st = ab_y_enum(ctx, node, "parameter", "continuation.parameter", 0, params, &c->parameter, NULL);
    if (!st) st = require(ctx, node, "min", "continuation.min");
    if (!st) st = require(ctx, node, "max", "continuation.max");
    if (!st) st = ab_y_double(ctx, node, "min", "continuation.min", 0.0,
                              c->parameter == 0 ? POSITIVE : NONNEGATIVE, &c->min, NULL);
    if (!st) st = ab_y_double(ctx, node, "max", "continuation.max", 0.0, any, &c->max, NULL);
    if (!st) st = ab_y_int(ctx, node, "direction", "continuation.direction", -1, -1, 1, &dir, NULL);
    if (!st) st = ab_y_double(ctx, node, "ds", "continuation.ds", 0.01, POSITIVE, &c->ds, NULL);
    if (!st) st = ab_y_double(ctx, node, "ds_min", "continuation.ds_min", 1e-8, POSITIVE, &c->ds_min, NULL);
    if (!st) st = ab_y_double(ctx, node, "ds_max", "continuation.ds_max", 0.05, POSITIVE, &c->ds_max, NULL);
    if (!st) st = ab_y_int(ctx, node, "max_steps", "continuation.max_steps", 2000, 1, 10000000, &steps, NULL);
    if (!st) st = ab_y_bool(ctx, node, "switch_branches", "continuation.switch_branches", 1, &c->switch_branches, NULL);
    if (!st) st = ab_y_int(ctx, node, "max_branches", "continuation.max_branches", 10, 1, 10000, &branches, NULL);
    if (st) return st;
    if (dir == 0) return ab_y_fail(ctx, ab_y_get(ctx, node, "direction"), "continuation.direction", "must be -1 or 1");
    if (!(c->max > c->min))
        return ab_y_fail(ctx, ab_y_get(ctx, node, "max"), "continuation.max", "must be > continuation.min (%g)", c->min);
    /* (a restart from a label starts at the label's value, checked by ab_spec_apply_label) */
    double start = c->parameter == 0 ? spec->kappa : spec->model.beta;
    if (spec->state.type != AB_STATE_LABEL && (start < c->min || start > c->max))
        return ab_y_fail(ctx, node, "continuation", "the starting %s = %g (top-level key) is outside [min, max] = [%g, %g]",
                         params[c->parameter], start, c->min, c->max);
    if (!(c->ds_min <= c->ds && c->ds <= c->ds_max))
        return ab_y_fail(ctx, node, "continuation.ds", "need ds_min <= ds <= ds_max (got %g, %g, %g)", c->ds_min, c->ds, c->ds_max);
    if ((st = parse_tolerances(ctx, ab_y_get(ctx, node, "tolerances"), c))) return st;
    const yaml_node_t *deg = ab_y_get(ctx, node, "degrees");
    if (deg) {
        const int len = ab_y_seq_len(deg);
        if (deg->type != YAML_SEQUENCE_NODE || len < 1 || len > AB_MAX_SECTORS)
            return ab_y_fail(ctx, deg, "continuation.degrees", "expected a list of 1 to %d degrees l >= 1", AB_MAX_SECTORS);
        for (int i = 0; i < len; i++) {
            const yaml_node_t *it = ab_y_seq_item(ctx, deg, i);
            long l;
            if ((st = ab_y_node_int(ctx, it, "continuation.degrees", &l))) return st;
            if (l < 1 || l > 4096) return ab_y_fail(ctx, it, "continuation.degrees", "degrees are >= 1 (got %ld)", l);
            for (int j = 0; j < i; j++)
                if (c->degrees[j] == l) return ab_y_fail(ctx, it, "continuation.degrees", "degree %ld is listed twice", l);
            c->degrees[i] = (int)l;
        }
        c->n_degrees = len;
    }
    c->tolerances.newton_tol = spec->newton.tol;
    c->present = 1;
    c->direction = (int)dir;
    c->max_steps = (int)steps;
    c->max_branches = (int)branches;
    return AB_OK;
}

/* two_parameter: curves of the one-parameter run's special points in (kappa, beta)
 * (docs/curves.md). */
static ab_status parse_two_parameter(ab_yctx *ctx, const yaml_node_t *node, ab_spec *spec)
{
    ab_two_parameter_spec *t = &spec->two_parameter;
    memset(t, 0, sizeof *t);
    if (!node) return AB_OK;
    static const char *const keys[] = {"follow", "parameter", "min", "max", "ds", "ds_min", "ds_max", "max_steps", "maxwell",
                                       NULL};
    static const char *const params[] = {"kappa", "beta", NULL};
    static const char *const kinds[] = {"fold", "pitchfork", "transcritical", NULL};
    const ab_range any = {-INFINITY, INFINITY, 0, 0};
    long steps;
    ab_status st = ab_y_check_map(ctx, node, "two_parameter", keys);
    if (st) return st;
    if (!spec->continuation.present)
        return ab_y_fail(ctx, node, "two_parameter", "needs a continuation section (the one-parameter run whose special "
                                                     "points start the curves)");
    const yaml_node_t *follow = ab_y_get(ctx, node, "follow");
    if (!follow) {
        t->follow_fold = t->follow_pitchfork = t->follow_transcritical = 1;
    } else {
        const int len = ab_y_seq_len(follow);
        if (len <= 0)
            return ab_y_fail(ctx, follow, "two_parameter.follow",
                             "must be a non-empty list of fold, pitchfork, transcritical");
        for (int i = 0; i < len; i++) {
            const yaml_node_t *item = ab_y_seq_item(ctx, follow, i);
            const char *v = item && item->type == YAML_SCALAR_NODE ? (const char *)item->data.scalar.value : NULL;
            int k = -1;
            for (int j = 0; v && kinds[j]; j++)
                if (strcmp(v, kinds[j]) == 0) k = j;
            if (k < 0)
                return ab_y_fail(ctx, item ? item : follow, "two_parameter.follow",
                                 "unknown special point type (expected fold, pitchfork or transcritical)");
            if (k == 0) t->follow_fold = 1;
            if (k == 1) t->follow_pitchfork = 1;
            if (k == 2) t->follow_transcritical = 1;
        }
    }
    if (!st) st = require(ctx, node, "parameter", "two_parameter.parameter");
    if (!st) st = ab_y_enum(ctx, node, "parameter", "two_parameter.parameter", 1, params, &t->parameter, NULL);
    if (!st) st = require(ctx, node, "min", "two_parameter.min");
    if (!st) st = require(ctx, node, "max", "two_parameter.max");
    if (!st) st = ab_y_double(ctx, node, "min", "two_parameter.min", 0.0, t->parameter == 0 ? POSITIVE : NONNEGATIVE,
                              &t->min, NULL);
    if (!st) st = ab_y_double(ctx, node, "max", "two_parameter.max", 0.0, any, &t->max, NULL);
    if (!st) st = ab_y_double(ctx, node, "ds", "two_parameter.ds", 0.02, POSITIVE, &t->ds, NULL);
    if (!st) st = ab_y_double(ctx, node, "ds_min", "two_parameter.ds_min", 1e-7, POSITIVE, &t->ds_min, NULL);
    if (!st) st = ab_y_double(ctx, node, "ds_max", "two_parameter.ds_max", 0.1, POSITIVE, &t->ds_max, NULL);
    if (!st) st = ab_y_int(ctx, node, "max_steps", "two_parameter.max_steps", 1000, 1, 1000000, &steps, NULL);
    if (!st) st = ab_y_bool(ctx, node, "maxwell", "two_parameter.maxwell", 1, &t->maxwell, NULL);
    if (st) return st;
    if (t->parameter == spec->continuation.parameter)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "parameter"), "two_parameter.parameter",
                         "must differ from continuation.parameter (%s): the curves live in the plane of both",
                         params[t->parameter]);
    if (!(t->max > t->min))
        return ab_y_fail(ctx, ab_y_get(ctx, node, "max"), "two_parameter.max", "must be > two_parameter.min (%g)", t->min);
    const double start = t->parameter == 0 ? spec->kappa : spec->model.beta;
    if (start < t->min || start > t->max)
        return ab_y_fail(ctx, node, "two_parameter", "the run's %s = %g (top-level key) is outside [min, max] = [%g, %g]",
                         params[t->parameter], start, t->min, t->max);
    if (!(t->ds_min <= t->ds && t->ds <= t->ds_max))
        return ab_y_fail(ctx, node, "two_parameter.ds", "need ds_min <= ds <= ds_max (got %g, %g, %g)", t->ds_min, t->ds,
                         t->ds_max);
    if (spec->disc.type != AB_DISC_ZONAL)
        return ab_y_fail(ctx, node, "two_parameter",
                         "curves are followed on the zonal discretisation only (the sphere's Jacobian is not "
                         "assembled; docs/curves.md)");
    t->max_steps = (int)steps;
    t->present = 1;
    return AB_OK;
}

/* Names become directory names and appear in messages (docs/spec.md, `name`): letters,
 * digits and . _ + -, not starting with '.' (no hidden, '.' or '..' directories). Returns
 * the index of the first character not allowed, or -1. */
static int bad_name_char(const char *name)
{
    for (int i = 0; name[i]; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
                 c == '-' || (c == '.' && i > 0);
        if (!ok) return i;
    }
    return -1;
}

/* The character for a message: itself if printable ASCII, else a C escape, so that control
 * characters (an ANSI escape sequence) never reach the terminal raw. */
static void show_char(char *out, size_t cap, char c)
{
    unsigned char u = (unsigned char)c;
    if (u >= 0x20 && u < 0x7f && c != '\\') snprintf(out, cap, "'%c'", c);
    else snprintf(out, cap, "'\\x%02x'", u);
}

static ab_status check_name(ab_yctx *ctx, const yaml_node_t *node, const char *name)
{
    int i = bad_name_char(name);
    if (i < 0) return AB_OK;
    char shown[16];
    show_char(shown, sizeof shown, name[i]);
    return ab_y_fail(ctx, node, "name",
                     "character %d (%s) is not allowed: a name uses letters, digits and . _ + - and does not start "
                     "with '.' (it names the directory output/<name>)", i + 1, shown);
}

/* output.dir is any path, but it is replaced as a whole, so it needs a last component of
 * its own, and it is printed, so no control characters. */
static ab_status check_output_dir(ab_yctx *ctx, const yaml_node_t *node, const char *dir)
{
    for (int i = 0; dir[i]; i++)
        if ((unsigned char)dir[i] < 0x20 || dir[i] == 0x7f) {
            char shown[16];
            show_char(shown, sizeof shown, dir[i]);
            return ab_y_fail(ctx, node, "output.dir", "control character %s at position %d", shown, i + 1);
        }
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/') start--;
    size_t blen = len - start;
    if (blen == 0 || (blen == 1 && dir[start] == '.') || (blen == 2 && dir[start] == '.' && dir[start + 1] == '.'))
        return ab_y_fail(ctx, node, "output.dir",
                         "'%s' names no directory of its own; results replace the whole directory, so give it a name "
                         "(e.g. output/NAME)", dir);
    return AB_OK;
}

static ab_status parse_output(ab_yctx *ctx, const yaml_node_t *node, ab_spec *spec)
{
    char def[AB_PATH_MAX];
    snprintf(def, sizeof def, "output/%.*s", (int)(sizeof def - 16), spec->name);
    if (!node) { memcpy(spec->output_dir, def, sizeof def); return AB_OK; }
    static const char *const keys[] = {"dir", NULL};
    ab_status st = ab_y_check_map(ctx, node, "output", keys);
    if (!st) st = ab_y_string(ctx, node, "dir", "output.dir", def, spec->output_dir, sizeof spec->output_dir, NULL);
    if (!st) st = check_output_dir(ctx, ab_y_get(ctx, node, "dir") ? ab_y_get(ctx, node, "dir") : node, spec->output_dir);
    return st;
}

/* Default name: the spec file's base name without extension. */
static void default_name(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strcspn(base, ".");
    if (len == 0) { snprintf(out, cap, "problem"); return; }
    snprintf(out, cap, "%.*s", (int)(len < cap - 1 ? len : cap - 1), base);
    /* a file name may hold characters a name may not (check_name): replace them */
    for (int i; (i = bad_name_char(out)) >= 0;) out[i] = '_';
}

static ab_status parse_document(ab_yctx *ctx, ab_spec *spec)
{
    yaml_node_t *root = yaml_document_get_root_node(ctx->doc);
    if (!root) return ab_y_fail(ctx, NULL, "(top level)", "the file is empty");
    static const char *const keys[] = {"version", "name", "model", "d", "beta", "kappa",
                                       "discretization", "state", "eigen", "newton",
                                       "output", "continuation", "simulation", "limits", "linear_solver", "two_parameter", NULL};
    static const char *const models[] = {"SA", "USA", NULL};
    ab_status st = ab_y_check_map(ctx, root, "", keys);
    if (st) return st;
    long version, d;
    int kind;
    char name[AB_NAME_MAX];
    default_name(spec->path, name, sizeof name);
    if ((st = ab_y_int(ctx, root, "version", "version", 1, 1, 1, &version, NULL))) return st;
    if ((st = ab_y_string(ctx, root, "name", "name", name, spec->name, sizeof spec->name, NULL))) return st;
    if ((st = check_name(ctx, ab_y_get(ctx, root, "name"), spec->name))) return st;
    const char *required[] = {"model", "d", "beta", "kappa"};
    for (int i = 0; i < 4; i++)
        if ((st = require(ctx, root, required[i], required[i]))) return st;
    if ((st = ab_y_enum(ctx, root, "model", "model", 0, models, &kind, NULL))) return st;
    if ((st = ab_y_int(ctx, root, "d", "d", 3, 2, AB_D_MAX, &d, NULL))) return st;
    if ((st = ab_y_double(ctx, root, "beta", "beta", 0.0, NONNEGATIVE, &spec->model.beta, NULL))) return st;
    if ((st = ab_y_double(ctx, root, "kappa", "kappa", 0.0, POSITIVE, &spec->kappa, NULL))) return st;
    spec->version = (int)version;
    spec->model.kind = (ab_model_kind)kind;
    spec->model.d = (int)d;
    if (!isfinite(ab_kappa_l(spec->model.kind, spec->model.d, spec->model.beta, 1)))
        return ab_y_fail(ctx, ab_y_get(ctx, root, "beta"), "beta",
                         "too large for %s: kappa_1 = lambda_1/beta = e^%.1f exceeds double precision (the USA "
                         "noise scale grows like e^beta / beta^((d-1)/2)); use SA, or beta below about 700",
                         ab_model_kind_name(spec->model.kind),
                         ab_log_lambda_l(spec->model.d, spec->model.beta, 1) - log(spec->model.beta));
    if ((st = parse_discretization(ctx, ab_y_get(ctx, root, "discretization"), spec))) return st;
    if ((st = parse_state(ctx, ab_y_get(ctx, root, "state"), spec))) return st;
    if ((st = parse_eigen(ctx, ab_y_get(ctx, root, "eigen"), spec))) return st;
    if ((st = parse_newton(ctx, ab_y_get(ctx, root, "newton"), spec))) return st;
    if ((st = parse_output(ctx, ab_y_get(ctx, root, "output"), spec))) return st;
    if ((st = parse_continuation(ctx, ab_y_get(ctx, root, "continuation"), spec))) return st;
    if ((st = parse_linear_solver(ctx, ab_y_get(ctx, root, "linear_solver"), spec))) return st;
    if ((st = parse_two_parameter(ctx, ab_y_get(ctx, root, "two_parameter"), spec))) return st;
    yaml_node_t *sim = ab_y_get(ctx, root, "simulation");
    spec->has_simulation = sim != NULL;
    if (sim && (st = ab_spec_parse_simulation(ctx, sim, spec, &spec->simulation))) return st;
    if ((st = parse_limits(ctx, ab_y_get(ctx, root, "limits"), spec))) return st;
    spec->marks.root = mark_of(root);
    spec->marks.discretization = mark_of(ab_y_get(ctx, root, "discretization"));
    spec->marks.state = mark_of(ab_y_get(ctx, root, "state"));
    spec->marks.eigen = mark_of(ab_y_get(ctx, root, "eigen"));
    spec->marks.linear_solver = mark_of(ab_y_get(ctx, root, "linear_solver"));
    spec->marks.continuation = mark_of(ab_y_get(ctx, root, "continuation"));
    spec->marks.simulation = mark_of(sim);
    spec->marks.limits = mark_of(ab_y_get(ctx, root, "limits"));
    spec->marks.two_parameter = mark_of(ab_y_get(ctx, root, "two_parameter"));
    return AB_OK;
}

/* Nesting depth of the YAML text, by libyaml's event parser, stopping at the first level
 * beyond AB_SPEC_MAX_DEPTH (so its cost stays linear in the file size); a syntax error is
 * left to the full parse, which reports it. */
static ab_status check_depth(const char *text, size_t len, const char *path, ab_error *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) return ab_error_set(err, AB_ENOMEM, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    ab_status st = AB_OK;
    int depth = 0, done = 0;
    while (!done && !st) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) break;
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
            if (++depth > AB_SPEC_MAX_DEPTH)
                st = ab_error_set(err, AB_ESPEC, "%s:%lu:%lu: (top level): nested deeper than %d levels (a spec needs 4)",
                                  path, (unsigned long)ev.start_mark.line + 1, (unsigned long)ev.start_mark.column + 1,
                                  AB_SPEC_MAX_DEPTH);
        } else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            depth--;
        } else if (ev.type == YAML_STREAM_END_EVENT) {
            done = 1;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return st;
}

static ab_status parse_with(yaml_parser_t *parser, const char *path, ab_spec *spec, ab_error *err)
{
    memset(spec, 0, sizeof *spec);
    if (strlen(path) >= sizeof spec->path) return ab_error_set(err, AB_ESPEC, "spec path too long: %s", path);
    memcpy(spec->path, path, strlen(path) + 1);
    yaml_document_t doc;
    if (!yaml_parser_load(parser, &doc)) {
        ab_status st = ab_error_set(err, AB_ESPEC, "%s:%lu:%lu: YAML syntax error: %s%s%s", path,
                                    (unsigned long)parser->problem_mark.line + 1,
                                    (unsigned long)parser->problem_mark.column + 1,
                                    parser->problem ? parser->problem : "unknown",
                                    parser->context ? " " : "", parser->context ? parser->context : "");
        return st;
    }
    ab_yctx ctx = {path, &doc, err};
    ab_status st = parse_document(&ctx, spec);
    if (!st) {
        /* A second document in the same file is almost certainly a mistake. */
        yaml_document_t extra;
        if (yaml_parser_load(parser, &extra)) {
            if (yaml_document_get_root_node(&extra))
                st = ab_error_set(err, AB_ESPEC, "%s: more than one YAML document; a spec is a single mapping", path);
            yaml_document_delete(&extra);
        }
    }
    yaml_document_delete(&doc);
    return st;
}

/* Parse len bytes of YAML text (bounded in size and depth first). */
static ab_status parse_text(const char *text, size_t len, const char *path, ab_spec *spec, ab_error *err)
{
    if (len > (size_t)AB_SPEC_MAX_BYTES)
        return ab_error_set(err, AB_ESPEC, "%s: the spec is larger than %ld bytes (a spec is a few hundred)", path,
                            AB_SPEC_MAX_BYTES);
    ab_status st = check_depth(text, len, path, err);
    if (st) return st;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) return ab_error_set(err, AB_ENOMEM, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    st = parse_with(&parser, path, spec, err);
    yaml_parser_delete(&parser);
    return st;
}

ab_status ab_spec_parse_string(const char *text, const char *path, ab_spec *spec, ab_error *err)
{
    return parse_text(text, strlen(text), path, spec, err);
}

ab_status ab_spec_load(const char *path, ab_spec *spec, ab_error *err)
{
    /* Only regular files (a FIFO or a device would block or never end), opened without
     * blocking; then at most one byte more than allowed: enough to know it is too large. */
    FILE *f;
    ab_status ost = ab_open_input(path, "spec file", AB_ESPEC, &f, err);
    if (ost) return ost;
    char *text = malloc((size_t)AB_SPEC_MAX_BYTES + 2);
    if (!text) { fclose(f); return ab_error_set(err, AB_ENOMEM, "out of memory reading %s", path); }
    size_t len = fread(text, 1, (size_t)AB_SPEC_MAX_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(text); return ab_error_set(err, AB_ESPEC, "%s: cannot read spec file", path); }
    text[len] = '\0';
    ab_status st = parse_text(text, len, path, spec, err);
    free(text);
    return st;
}

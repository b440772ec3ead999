/* Parser of the `simulation:` section (docs/spec-simulation.md). */
#include "spec/spec_sim.h"

#include <math.h>
#include <string.h>

static const ab_range POS = {0.0, INFINITY, 1, 0};
static const ab_range NONNEG = {0.0, INFINITY, 0, 0};

static ab_status parse_common_noise(ab_yctx *ctx, const yaml_node_t *node, ab_sim_spec *out)
{
    static const char *const keys[] = {"type", "strength", NULL};
    static const char *const types[] = {"rqf", NULL};
    int type;
    ab_status st = ab_y_check_map(ctx, node, "simulation.common_noise", keys);
    if (!st) st = ab_y_enum(ctx, node, "type", "simulation.common_noise.type", 0, types, &type, NULL);
    if (!st && !ab_y_get(ctx, node, "strength"))
        st = ab_y_fail(ctx, node, "simulation.common_noise.strength", "required key is missing");
    if (!st) st = ab_y_double(ctx, node, "strength", "simulation.common_noise.strength", 0.0, POS, &out->common_noise, NULL);
    return st;
}

/* switching: {observable: r, thresholds: [lo, hi]} (docs/metastability.md). */
static ab_status parse_switching(ab_yctx *ctx, const yaml_node_t *node, ab_sim_spec *out)
{
    static const char *const keys[] = {"observable", "thresholds", NULL};
    static const char *const observables[] = {"r", NULL};
    int obs = 0;
    ab_status st = ab_y_check_map(ctx, node, "simulation.switching", keys);
    if (!st) st = ab_y_enum(ctx, node, "observable", "simulation.switching.observable", 0, observables, &obs, NULL);
    if (st) return st;
    yaml_node_t *th = ab_y_get(ctx, node, "thresholds");
    if (!th || th->type != YAML_SEQUENCE_NODE || ab_y_seq_len(th) != 2)
        return ab_y_fail(ctx, th ? th : node, "simulation.switching.thresholds", "expected a list [lo, hi] of two values of r");
    double v[2];
    for (int i = 0; i < 2; i++)
        if ((st = ab_y_node_double(ctx, ab_y_seq_item(ctx, th, i), "simulation.switching.thresholds", &v[i]))) return st;
    if (!(v[0] > 0.0 && v[0] < v[1] && v[1] < 1.0))
        return ab_y_fail(ctx, th, "simulation.switching.thresholds", "need 0 < lo < hi < 1 (got %g, %g)", v[0], v[1]);
    out->switching = 1;
    out->switch_lo = v[0];
    out->switch_hi = v[1];
    return AB_OK;
}

static ab_status parse_sweep(ab_yctx *ctx, const yaml_node_t *node, const ab_spec *spec, ab_sim_spec *out)
{
    static const char *const keys[] = {"kappa", "n", NULL};
    ab_status st = ab_y_check_map(ctx, node, "simulation.sweep", keys);
    if (st) return st;
    yaml_node_t *k = ab_y_get(ctx, node, "kappa"), *sizes = ab_y_get(ctx, node, "n");
    if (!k) return ab_y_fail(ctx, node, "simulation.sweep.kappa", "required key is missing");
    if (k->type == YAML_SEQUENCE_NODE) {
        int m = ab_y_seq_len(k);
        if (m < 1 || m > AB_SIM_MAX_SWEEP)
            return ab_y_fail(ctx, k, "simulation.sweep.kappa", "between 1 and %d values", AB_SIM_MAX_SWEEP);
        for (int i = 0; i < m; i++) {
            yaml_node_t *it = ab_y_seq_item(ctx, k, i);
            double v;
            if ((st = ab_y_node_double(ctx, it, "simulation.sweep.kappa", &v))) return st;
            if (!(v > 0.0)) return ab_y_fail(ctx, it, "simulation.sweep.kappa", "must be > 0 (got %g)", v);
            if (i > 0 && !(v > out->kappa[i - 1]))
                return ab_y_fail(ctx, it, "simulation.sweep.kappa", "values must increase");
            out->kappa[i] = v;
        }
        out->n_kappa = m;
    } else {
        static const char *const kk[] = {"min", "max", "count", NULL};
        double lo, hi;
        long count;
        if ((st = ab_y_check_map(ctx, k, "simulation.sweep.kappa", kk))) return st;
        const char *req[] = {"min", "max", "count"};
        for (int i = 0; i < 3; i++)
            if (!ab_y_get(ctx, k, req[i])) return ab_y_fail(ctx, k, "simulation.sweep.kappa", "needs min, max and count");
        if ((st = ab_y_double(ctx, k, "min", "simulation.sweep.kappa.min", 0.0, POS, &lo, NULL))) return st;
        if ((st = ab_y_double(ctx, k, "max", "simulation.sweep.kappa.max", 0.0, POS, &hi, NULL))) return st;
        if ((st = ab_y_int(ctx, k, "count", "simulation.sweep.kappa.count", 2, 1, AB_SIM_MAX_SWEEP, &count, NULL))) return st;
        if (count > 1 && !(hi > lo))
            return ab_y_fail(ctx, ab_y_get(ctx, k, "max"), "simulation.sweep.kappa.max", "must be > min");
        out->n_kappa = (int)count;
        for (int i = 0; i < count; i++) out->kappa[i] = count > 1 ? lo + (hi - lo) * i / (count - 1) : lo;
    }
    if (sizes) {
        int m = ab_y_seq_len(sizes);
        if (sizes->type != YAML_SEQUENCE_NODE || m < 1 || m > AB_SIM_MAX_SWEEP)
            return ab_y_fail(ctx, sizes, "simulation.sweep.n", "expected a list of 1 to %d token counts", AB_SIM_MAX_SWEEP);
        for (int i = 0; i < m; i++) {
            yaml_node_t *it = ab_y_seq_item(ctx, sizes, i);
            long v;
            if ((st = ab_y_node_int(ctx, it, "simulation.sweep.n", &v))) return st;
            if (v < 2 || v > 100000) return ab_y_fail(ctx, it, "simulation.sweep.n", "must be in [2, 100000] (got %ld)", v);
            out->sizes[i] = (int)v;
        }
        out->n_sizes = m;
    } else {
        out->n_sizes = 1;
        out->sizes[0] = out->n;
    }
    (void)spec;
    return AB_OK;
}

ab_status ab_spec_parse_simulation(ab_yctx *ctx, const yaml_node_t *node, const ab_spec *spec, ab_sim_spec *out)
{
    static const char *const keys[] = {"n", "replicas", "seed", "dt", "t_burn", "t_measure", "sample_every", "bins",
                                       "attention", "independent_noise", "common_noise", "lyapunov", "timeseries",
                                       "initial", "sweep", "switching", NULL};
    static const char *const initials[] = {"uniform", "cluster", NULL};
    memset(out, 0, sizeof *out);
    ab_status st = ab_y_check_map(ctx, node, "simulation", keys);
    long n, replicas, seed, bins;
    if (!st) st = ab_y_int(ctx, node, "n", "simulation.n", 256, 2, 100000, &n, NULL);
    if (!st) st = ab_y_int(ctx, node, "replicas", "simulation.replicas", 8, 2, 100000, &replicas, NULL);
    if (!st) st = ab_y_int(ctx, node, "seed", "simulation.seed", 1, 0, 2147483647L, &seed, NULL);
    if (!st) st = ab_y_double(ctx, node, "dt", "simulation.dt", 0.0, POS, &out->dt, NULL);
    if (!st) st = ab_y_double(ctx, node, "t_burn", "simulation.t_burn", 20.0, NONNEG, &out->t_burn, NULL);
    if (!st) st = ab_y_double(ctx, node, "t_measure", "simulation.t_measure", 50.0, POS, &out->t_measure, NULL);
    if (!st) st = ab_y_double(ctx, node, "sample_every", "simulation.sample_every", 0.1, POS, &out->sample_every, NULL);
    if (!st) st = ab_y_int(ctx, node, "bins", "simulation.bins", 40, 2, 10000, &bins, NULL);
    if (!st) st = ab_y_bool(ctx, node, "attention", "simulation.attention", 1, &out->attention, NULL);
    if (!st) st = ab_y_bool(ctx, node, "independent_noise", "simulation.independent_noise", 1, &out->independent_noise, NULL);
    if (!st) st = ab_y_bool(ctx, node, "timeseries", "simulation.timeseries", 1, &out->timeseries, NULL);
    if (!st) st = ab_y_enum(ctx, node, "initial", "simulation.initial", 0, initials, &out->initial_cluster, NULL);
    if (st) return st;
    out->n = (int)n;
    out->replicas = (int)replicas;
    out->seed = (unsigned long)seed;
    out->bins = (int)bins;
    yaml_node_t *cn = ab_y_get(ctx, node, "common_noise");
    if (cn && (st = parse_common_noise(ctx, cn, out))) return st;
    if ((st = ab_y_bool(ctx, node, "lyapunov", "simulation.lyapunov", cn != NULL, &out->lyapunov, NULL))) return st;
    if (out->sample_every > out->t_measure)
        return ab_y_fail(ctx, ab_y_get(ctx, node, "sample_every"), "simulation.sample_every", "must be <= t_measure (%g)",
                         out->t_measure);
    if (!out->attention && !out->independent_noise && out->common_noise == 0.0)
        return ab_y_fail(ctx, node, "simulation", "nothing moves the tokens: enable attention, independent_noise or common_noise");
    yaml_node_t *sw = ab_y_get(ctx, node, "sweep");
    if (sw && (st = parse_sweep(ctx, sw, spec, out))) return st;
    yaml_node_t *swi = ab_y_get(ctx, node, "switching");
    if (swi && (st = parse_switching(ctx, swi, out))) return st;
    return AB_OK;
}

/* Cost estimates of solve, run and simulate before any work, against the spec's limits.
 * The model and its calibration are in docs/spec.md#limits. */
#include "spec/limits.h"

#include "attnbif/sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define GB 1e9

ab_cost ab_cost_solve(int nodes, int n_sectors)
{
    const double N = nodes, N3 = N * N * N;
    /* Dense nonsymmetric eigenvalues ~30 N^3 per sector; above ~400 nodes the sparse path
     * grows like N^4 (measured 14.5 s at 512, 253 s at 1024 for 4 sectors); Newton ~8 LU
     * factorisations of 2/3 N^3. Memory: ~80 N x N matrices (measured 177 MB at 512) plus
     * the program's own ~16 MB. */
    ab_cost c;
    c.seconds = (n_sectors * 30.0 * N3 * fmax(1.0, N / 400.0) + 8.0 * (2.0 / 3.0) * N3) / AB_LIMIT_RATE_SCALAR;
    c.bytes = 80.0 * 8.0 * N * N + 16e6;
    return c;
}

ab_cost ab_cost_solve_sphere(int degree)
{
    const double L1 = degree + 1.0;
    /* Measured: a tetrahedral state with its 12 rightmost eigenvalues takes ~1 s at degree 48
     * (docs/benchmarks.md, "Whole sphere"); Newton's and ARPACK's solves cost O(L^3) per
     * mat-vec and their iteration counts grow about like L, hence L^4. Memory: the Legendre
     * tables of the state's and the spectrum's grids (~3.3 x (L+1)^3 / 2 doubles), the
     * Krylov bases (~200 vectors of (L+1)^2), the program's own ~16 MB. */
    ab_cost c;
    c.seconds = 2e-7 * pow(degree, 4.0);
    c.bytes = 16e6 + 8.0 * (1.65 * L1 * L1 * L1 + 200.0 * L1 * L1);
    return c;
}

/* The cost model of the spec's discretisation at this size (nodes, or the sphere's degree). */
static ab_cost cost_solve(const ab_spec *spec, int nodes)
{
    return spec->disc.type == AB_DISC_SPHERE ? ab_cost_solve_sphere(nodes) : ab_cost_solve(nodes, spec->n_sectors);
}

/* "solve at 512 nodes, 4 sectors" or "solve on the sphere at degree 64", for messages. */
static void describe_solve(const ab_spec *spec, int nodes, char *what, size_t cap)
{
    if (spec->disc.type == AB_DISC_SPHERE) snprintf(what, cap, "solve on the sphere at degree %d", nodes);
    else snprintf(what, cap, "solve at %d nodes, %d sectors", nodes, spec->n_sectors);
}

void ab_cost_run(const ab_spec *spec, int nodes, ab_cost *expected, ab_cost *worst)
{
    const ab_continuation_spec *c = &spec->continuation;
    /* A step costs about one solve; a branch crosses the window in about (max - min) / ds_max
     * steps, four times that with step-size cuts at special points, plus ~40 steps to locate
     * them (measured: 18 steps a branch on problems/default.yaml). */
    const ab_cost step = cost_solve(spec, nodes);
    const double per_branch = fmin((double)c->max_steps, 4.0 * (c->max - c->min) / c->ds_max + 40.0);
    expected->seconds = step.seconds * per_branch * c->max_branches;
    expected->bytes = step.bytes + c->max_branches * per_branch * 200.0;
    worst->seconds = step.seconds * c->max_steps;
    worst->bytes = expected->bytes;
}

void ab_cost_curves(const ab_spec *spec, int nodes, ab_cost *expected)
{
    const ab_two_parameter_spec *t = &spec->two_parameter;
    /* Up to two curves per branch (its special points, a Maxwell curve beside a fold), each
     * crossing the window both ways like a branch; a point costs about one solve step (a few
     * Newton iterations on the extended system; a sector curve's gradient, one sector
     * operator per unknown, about what a step's spectra cost). */
    const ab_cost step = cost_solve(spec, nodes);
    const double per_curve = fmin(2.0 * t->max_steps, 2.0 * (4.0 * (t->max - t->min) / t->ds_max + 40.0));
    const double curves = 2.0 * spec->continuation.max_branches;
    expected->seconds = step.seconds * per_curve * curves;
    expected->bytes = step.bytes + curves * per_curve * 100.0;
}

ab_status ab_cost_simulation(const ab_spec *spec, double kappa, int n, int threads, ab_cost *out, ab_error *err)
{
    const ab_sim_spec *sim = &spec->simulation;
    const ab_model *m = &spec->model;
    double dt;
    long burn, every, samples;
    ab_status st = ab_sim_choose_dt(m->kind, m->d, m->beta, kappa, sim, &dt, err);
    if (!st) st = ab_sim_steps(sim, dt, &burn, &every, &samples, err);
    if (st) return st;
    const double d = m->d, N = n, R = sim->replicas, steps = (double)burn + (double)samples * every;
    const double pairs = fmin(N, 1024.0) * (fmin(N, 1024.0) - 1.0) / 2.0;
    /* Operations per replica and step: the drift's n^2 overlaps, weights and sums; the
     * Cayley rotation of each token (a d x d elimination); the common noise's d x d products;
     * a second pass for the tangent dynamics (Lyapunov). Per sample: moments, the pair
     * histogram of the first 1024 tokens, a symmetric d x d eigenvalue problem. */
    double drift = sim->attention ? N * N * (2.0 * d + 8.0) : 0.0;
    double other = 4.0 * N * d;
    if (sim->independent_noise) other += N * ((2.0 / 3.0) * d * d * d + 11.0 * d * d);
    if (sim->common_noise > 0.0) other += 2.0 * d * d * d + 4.0 * N * d * d;
    if (sim->lyapunov) { drift *= 2.0; other = 2.0 * other + 6.0 * N * d; }
    const double per_sample = N * d * d + pairs * (2.0 * d + 5.0) + 10.0 * d * d * d + 2.0 * d * d;
    out->seconds = R * steps * (drift / AB_LIMIT_RATE_DRIFT + other / AB_LIMIT_RATE_SCALAR) +
                   R * (double)samples * per_sample / AB_LIMIT_RATE_SCALAR;
    /* Memory: per replica its accumulators (mean d and second moment d^2, twice: the sums
     * and the current sample; 64 batches of 5 statistics; 3 histograms); per running replica its particle system (positions, drift,
     * next positions, transposed copy, noise, d x d scratch; 3 more n x d for Lyapunov); the
     * time series (4 numbers a sample) of replica 0. */
    const double T = fmin(R, threads > 0 ? threads : 1);
    const double acc = 8.0 * (2.0 * (d + d * d) + 64.0 * 6.0 + 16.0 + 3.0 * sim->bins);
    const double particles = 8.0 * (N * d * (sim->lyapunov ? 7.0 : 4.0) + N * (d * (d - 1.0) / 2.0 + 1.0) +
                                    4.0 * d * d + 6.0 * d) + 8192.0;
    out->bytes = R * acc + T * particles + (sim->timeseries ? 32.0 * samples : 0.0) + 16e6;
    return AB_OK;
}

/* "1.2 h", "35 s", "4.1 GB", "120 MB". */
static void fmt_time(char *out, size_t cap, double s)
{
    if (!isfinite(s) || s > 3.15e9) snprintf(out, cap, "more than a century");
    else if (s >= 86400.0 * 2) snprintf(out, cap, "%.3g days", s / 86400.0);
    else if (s >= 3600.0) snprintf(out, cap, "%.3g h", s / 3600.0);
    else if (s >= 60.0) snprintf(out, cap, "%.3g min", s / 60.0);
    else snprintf(out, cap, "%.2g s", s);
}

static void fmt_bytes(char *out, size_t cap, double b)
{
    if (!isfinite(b)) snprintf(out, cap, "unbounded");
    else if (b >= 1e12) snprintf(out, cap, "%.3g TB", b / 1e12);
    else if (b >= GB) snprintf(out, cap, "%.3g GB", b / GB);
    else snprintf(out, cap, "%.3g MB", b / 1e6);
}

static ab_status fail_at(const ab_spec *spec, ab_spec_mark mk, const char *section, ab_error *err, const char *what)
{
    if (mk.line > 0)
        return ab_error_set(err, AB_ESPEC, "%s:%d:%d: %s: %s", spec->path, mk.line, mk.col, section, what);
    return ab_error_set(err, AB_ESPEC, "%s: %s: %s", spec->path, section, what);
}

/* Compare one estimate with the limits; what names the job ("solve at 4096 nodes, 4 sectors"). */
static ab_status judge(const ab_spec *spec, ab_spec_mark mk, const char *section, const char *what, ab_cost c,
                       double time_limit_s, int enforce, const ab_messages *report, ab_error *err)
{
    char ts[48], ms[48], tl[48], ml[48], msg[700];
    fmt_time(ts, sizeof ts, c.seconds);
    fmt_bytes(ms, sizeof ms, c.bytes);
    fmt_time(tl, sizeof tl, time_limit_s);
    fmt_bytes(ml, sizeof ml, spec->limits.memory_gb * GB);
    if (report && report->line) {
        char line[400];
        snprintf(line, sizeof line, "estimate: %s: CPU time %s, memory %s", what, ts, ms);
        report->line(report->ctx, line);
    }
    if (!enforce || !spec->limits.enforce) return AB_OK;
    const int over_t = !(c.seconds <= time_limit_s), over_m = !(c.bytes <= spec->limits.memory_gb * GB);
    if (!over_t && !over_m) return AB_OK;
    snprintf(msg, sizeof msg,
             "%s: estimated CPU time %s (limit %s), memory %s (limit %s): exceeds the %s limit; reduce the problem, "
             "or raise it with `limits: {%s: ...}` or --no-limits (docs/spec.md#limits)",
             what, ts, tl, ms, ml, over_t && over_m ? "time and memory" : over_t ? "time" : "memory",
             over_t ? "time_minutes" : "memory_gb");
    return fail_at(spec, mk, section, err, msg);
}

ab_status ab_limits_check_nodes(const ab_spec *spec, int nodes, ab_error *err)
{
    char what[120];
    const ab_spec_mark mk = spec->marks.discretization.line ? spec->marks.discretization : spec->marks.root;
    describe_solve(spec, nodes, what, sizeof what);
    return judge(spec, mk, "discretization", what, cost_solve(spec, nodes), spec->limits.time_minutes * 60.0,
                 1, NULL, err);
}

ab_status ab_spec_check_limits(const ab_spec *spec, const char *command, int nodes, int threads, int enforce,
                               const ab_messages *report, ab_error *err)
{
    const int all = strcmp(command, "check") == 0;
    const double tlim = spec->limits.time_minutes * 60.0;
    char what[200];
    ab_status st = AB_OK;
    const ab_spec_mark disc_mark = spec->marks.discretization.line ? spec->marks.discretization : spec->marks.root;
    if (nodes > 0 && (all || strcmp(command, "solve") == 0)) {
        describe_solve(spec, nodes, what, sizeof what);
        st = judge(spec, disc_mark, "discretization", what, cost_solve(spec, nodes), tlim, enforce, report,
                   err);
        if (st) return st;
    }
    if (nodes > 0 && (all || strcmp(command, "run") == 0) && spec->continuation.present) {
        ab_cost expected, worst;
        ab_cost_run(spec, nodes, &expected, &worst);
        snprintf(what, sizeof what, "run at %d nodes, %d sectors, up to %d branches", nodes, spec->n_sectors,
                 spec->continuation.max_branches);
        st = judge(spec, spec->marks.continuation, "continuation", what, expected, tlim, enforce, report, err);
        if (st) return st;
        snprintf(what, sizeof what, "continuation.max_steps = %d at %d nodes allows one branch to take", 
                 spec->continuation.max_steps, nodes);
        st = judge(spec, spec->marks.continuation, "continuation.max_steps", what, worst, AB_LIMIT_WORST_FACTOR * tlim,
                   enforce, NULL, err);
        if (st) return st;
        if (spec->two_parameter.present) {
            ab_cost curves;
            ab_cost_curves(spec, nodes, &curves);
            snprintf(what, sizeof what, "curves: up to %d at %d nodes", 2 * spec->continuation.max_branches,
                     nodes);
            st = judge(spec, spec->marks.two_parameter, "two_parameter", what, curves, tlim, enforce, report, err);
            if (st) return st;
        }
    }
    if ((all || strcmp(command, "simulate") == 0) && spec->has_simulation) {
        const ab_sim_spec *sim = &spec->simulation;
        const int sweep = sim->n_kappa > 0, n_k = sweep ? sim->n_kappa : 1, n_n = sweep ? sim->n_sizes : 1;
        ab_cost total = {0.0, 0.0};
        double kept = 0.0; /* what each finished simulation keeps until the end: histograms, time series */
        for (int b = 0; b < n_n; b++)
            for (int a = 0; a < n_k; a++) {
                ab_cost c;
                const int n = sweep ? sim->sizes[b] : sim->n;
                const double kappa = sweep ? sim->kappa[a] : spec->kappa;
                ab_error e = {0};
                if (ab_cost_simulation(spec, kappa, n, threads, &c, &e)) {
                    char msg[700];
                    snprintf(msg, sizeof msg, "n = %d, kappa = %g: %.600s", n, kappa, e.msg);
                    return fail_at(spec, spec->marks.simulation, "simulation", err, msg);
                }
                /* simulations run one after another, each keeping its results */
                total.seconds += c.seconds;
                total.bytes = fmax(total.bytes, c.bytes);
                long burn, every, samples;
                double dt;
                if (!ab_sim_choose_dt(spec->model.kind, spec->model.d, spec->model.beta, kappa, sim, &dt, &e) &&
                    !ab_sim_steps(sim, dt, &burn, &every, &samples, &e))
                    kept += 24.0 * sim->bins + (sim->timeseries ? 32.0 * (double)samples : 0.0);
            }
        total.bytes += kept;
        snprintf(what, sizeof what, "%d simulation%s of %d replicas", n_k * n_n, n_k * n_n > 1 ? "s" : "",
                 sim->replicas);
        st = judge(spec, spec->marks.simulation, "simulation", what, total, tlim, enforce, report, err);
    }
    return st;
}

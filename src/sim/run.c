/* Replicas in parallel, stationary statistics with error bars from independent replicas,
 * the time-step rule, the finite-n kappa_c estimator and the exact n = 2 law. */
#include "sim/particles.h"

#include <gsl/gsl_integration.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ab_sim_result_free(ab_sim_result *res)
{
    free(res->hist_q);
    free(res->hist_r);
    free(res->hist_S);
    free(res->series);
    res->hist_q = res->hist_r = res->hist_S = res->series = NULL;
}

double ab_sim_rate(ab_model_kind kind, int d, double beta, double kappa, const ab_sim_spec *sim)
{
    double rate = 0.0;
    if (sim->attention) /* Lipschitz bound of the drift: SA 1 + 2 beta, USA e^beta (1 + beta) */
        rate = fmax(rate, kind == AB_MODEL_SA ? 1.0 + 2.0 * beta : exp(beta) * (1.0 + beta));
    if (sim->independent_noise) rate = fmax(rate, kappa * (d - 1));
    if (sim->common_noise > 0.0) rate = fmax(rate, sim->common_noise * sim->common_noise * d);
    return fmax(rate, 1e-12);
}

ab_status ab_sim_choose_dt(ab_model_kind kind, int d, double beta, double kappa, const ab_sim_spec *sim, double *dt,
                           ab_error *err)
{
    double rate = ab_sim_rate(kind, d, beta, kappa, sim);
    if (sim->dt > 0.0) {
        if (sim->dt * rate > 0.1)
            return ab_error_set(err, AB_EINVAL,
                                "simulation.dt = %g is too large for these parameters: dt * rate = %.3g > 0.1 "
                                "(rate = %.3g from the drift, kappa (d-1) and s^2 d); use dt <= %.3g or omit dt",
                                sim->dt, sim->dt * rate, rate, 0.1 / rate);
        *dt = sim->dt;
    } else {
        /* weak error ~ C dt * rate; 0.01 / rate keeps it at the 1e-3 level (docs/simulation.md) */
        *dt = fmin(0.01, 0.01 / rate);
        /* passage times carry the O(sqrt(dt)) bias of a crossing seen only at the steps, and
         * the weak error of the drift: measured +5% at dt = 1e-3 for n = 2, within the
         * errors at 1e-4 (docs/metastability.md) */
        if (sim->switching) *dt *= AB_SIM_SWITCH_DT_FACTOR;
    }
    return AB_OK;
}

ab_status ab_sim_steps(const ab_sim_spec *sim, double dt, long *burn, long *every, long *samples, ab_error *err)
{
    /* In doubles first: t / dt can be anything from 0 to inf (dt may be subnormal). */
    const double b = ceil(sim->t_burn / dt), e = fmax(1.0, floor(sim->sample_every / dt + 0.5));
    const double s = fmax(1.0, floor(sim->t_measure / (e * dt))), total = b + s * e;
    if (!(dt > 0.0) || !(total <= AB_SIM_MAX_STEPS))
        return ab_error_set(err, AB_EINVAL,
                            "t_burn + t_measure = %g time units at dt = %.3g is %.3g steps per replica, more than 2^53: "
                            "shorten t_burn or t_measure, or raise dt (docs/spec-simulation.md)",
                            sim->t_burn + sim->t_measure, dt, total);
    if (!(s <= (double)INT_MAX))
        return ab_error_set(err, AB_EINVAL,
                            "t_measure / sample_every = %.3g samples per replica, more than %d: raise sample_every", s,
                            INT_MAX);
    *burn = (long)b;
    *every = (long)e;
    *samples = (long)s;
    return AB_OK;
}

/* Batches per replica for the error bars: the measured time of each replica is cut into
 * AB_SIM_MAX_BATCHES equal batches of samples, later merged into fewer, longer ones. */
#define AB_SIM_MAX_BATCHES 64
enum { B_R, B_R2, B_R4, B_S, B_Q, B_STATS };

/* Per-replica accumulators. */
typedef struct {
    double r, r2, r4, S, q, abs_q, lyap;
    long pairs;
    double *mean, *second; /* d and d x d, in one block allocated with the accumulators */
    int samples;
    double batch[AB_SIM_MAX_BATCHES][B_STATS];
    int batch_count[AB_SIM_MAX_BATCHES];
    /* switching: the basin (-1 before the first entry), when it was entered (-1: before
     * the measurement started, so its interval is not counted), completed intervals */
    int basin;
    double entered;
    long transitions, count[2];
    double sum[2], sumsq[2];
} replica_acc;

/* |mean of the tokens| of a replica (r), without the rest of a sample. */
static double order_r(const ab_particles *p)
{
    double s2 = 0.0;
    for (int c = 0; c < p->d; c++) {
        double m = 0.0;
        for (int i = 0; i < p->n; i++) m += p->X[(size_t)i * p->d + c];
        s2 += m * m;
    }
    return sqrt(s2) / p->n;
}

static unsigned long mix_seed(unsigned long seed, unsigned long stream, unsigned long replica)
{
    /* splitmix64 of the three numbers: independent-looking streams, fixed by the spec */
    unsigned long long z = (unsigned long long)seed * 0x9E3779B97F4A7C15ULL + stream * 0xBF58476D1CE4E5B9ULL +
                           replica * 0x94D049BB133111EBULL + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (unsigned long)(z ^ (z >> 31));
}

static ab_estimate estimate(const double *v, int count)
{
    ab_estimate e = {0.0, NAN};
    for (int i = 0; i < count; i++) e.mean += v[i];
    e.mean /= count;
    if (count > 1) {
        double ss = 0.0;
        for (int i = 0; i < count; i++) ss += (v[i] - e.mean) * (v[i] - e.mean);
        e.err = sqrt(ss / (count - 1) / count);
    }
    return e;
}

/* The batch means of one statistic when each replica's AB_SIM_MAX_BATCHES batches are
 * merged into per_replica longer ones (R * per_replica values into out). */
static void batch_means(const replica_acc *acc, int R, int per_replica, int stat, double *out)
{
    const int merge = AB_SIM_MAX_BATCHES / per_replica;
    for (int k = 0; k < R; k++)
        for (int b = 0; b < per_replica; b++) {
            double sum = 0.0;
            int count = 0;
            for (int c = b * merge; c < (b + 1) * merge; c++) { sum += acc[k].batch[c][stat]; count += acc[k].batch_count[c]; }
            out[k * per_replica + b] = count ? sum / count : NAN;
        }
}

/* Jackknife over the N batches (means r, r2, r4) of the Binder cumulant (which = 0) or the
 * susceptibility chi = n (<r^2> - <r>^2) (which = 1). */
static ab_estimate jackknife(const double *r, const double *r2, const double *r4, int N, int n, int d, int which)
{
    double *vals = calloc((size_t)N + 1, sizeof(double));
    ab_estimate e = {NAN, NAN};
    if (!vals) return e;
    double tr = 0, tr2 = 0, tr4 = 0;
    for (int k = 0; k < N; k++) { tr += r[k]; tr2 += r2[k]; tr4 += r4[k]; }
    for (int leave = -1; leave < N; leave++) {
        const int m = leave < 0 ? N : N - 1;
        const double a = (tr - (leave < 0 ? 0 : r[leave])) / m, a2 = (tr2 - (leave < 0 ? 0 : r2[leave])) / m,
                     a4 = (tr4 - (leave < 0 ? 0 : r4[leave])) / m;
        vals[leave + 1] = which == 0 ? 0.5 * (d + 2) - 0.5 * d * a4 / (a2 * a2) : n * (a2 - a * a);
    }
    e.mean = vals[0];
    if (N > 1) {
        double mean = 0.0, ss = 0.0;
        for (int k = 1; k <= N; k++) mean += vals[k];
        mean /= N;
        for (int k = 1; k <= N; k++) ss += (vals[k] - mean) * (vals[k] - mean);
        e.err = sqrt((N - 1.0) / N * ss);
    }
    free(vals);
    return e;
}

ab_status ab_sim_run(const ab_model *model, double kappa, int n, const ab_sim_spec *sim, unsigned long stream,
                     ab_sim_progress progress, void *progress_ctx, ab_sim_result *res, ab_error *err)
{
    memset(res, 0, sizeof *res);
    const int d = model->d, R = sim->replicas, bins = sim->bins;
    double dt;
    long burn, every, samples;
    ab_status st = ab_sim_choose_dt(model->kind, d, model->beta, kappa, sim, &dt, err);
    if (!st) st = ab_sim_steps(sim, dt, &burn, &every, &samples, err);
    if (st) return st;
    const long total = burn + samples * every;
    replica_acc *acc = calloc((size_t)R, sizeof *acc);
    /* the one-point moments of every replica (d + d^2 each) and, per replica, a sample's own
     * mean and second moment (d + d^2): allocated here once, never in the step loop */
    const size_t per = (size_t)d + (size_t)d * d;
    double *moments = calloc(2 * per * (size_t)R, sizeof(double));
    double *hq = calloc((size_t)bins * R, sizeof(double)), *hr = calloc((size_t)bins * R * 2, sizeof(double)); /* r, then S */
    res->series = sim->timeseries ? malloc(sizeof(double) * 4 * (size_t)samples) : NULL;
    if (!acc || !moments || !hq || !hr || (sim->timeseries && !res->series)) {
        free(acc); free(moments); free(hq); free(hr); ab_sim_result_free(res);
        return ab_error_set(err, AB_ENOMEM, "out of memory for %d replicas", R);
    }
    for (int k = 0; k < R; k++) {
        acc[k].mean = moments + 2 * per * (size_t)k;
        acc[k].second = acc[k].mean + d;
    }
    long done = 0;
    int failed = 0;
    ab_error first_err = {0};
#pragma omp parallel for schedule(dynamic, 1)
    for (int k = 0; k < R; k++) {
        ab_particles p;
        ab_error e = {0};
        if (ab_particles_init(&p, model, kappa, n, sim, dt, mix_seed(sim->seed, stream, (unsigned long)k), &e)) {
#pragma omp critical
            { failed = 1; first_err = e; }
            continue;
        }
        replica_acc *a = &acc[k];
        ab_sample s = {0.0, 0.0, 0.0, a->mean + per, a->mean + per + d};
        a->basin = -1;
        a->entered = -1.0;
        for (long step = 1; step <= total; step++) {
            double growth = ab_particles_step(&p);
            if (step > burn) a->lyap += growth;
            if (sim->switching && step >= burn) {
                /* the basin at every step of the measured time (the burn-in's last step sets
                 * the starting basin, whose interval is censored) */
                const double r = order_r(&p);
                const int now = r < sim->switch_lo ? 0 : r > sim->switch_hi ? 1 : a->basin;
                if (now != a->basin && now >= 0) {
                    const double t = (step - burn) * dt;
                    if (a->basin >= 0) {
                        a->transitions++;
                        if (a->entered >= 0.0) {
                            const double life = t - a->entered;
                            a->count[a->basin]++;
                            a->sum[a->basin] += life;
                            a->sumsq[a->basin] += life * life;
                        }
                    }
                    /* an entry seen during the measurement starts a counted interval */
                    a->entered = step > burn ? t : -1.0;
                    a->basin = now;
                }
            }
            if (step > burn && (step - burn) % every == 0) {
                ab_particles_sample(&p, &s);
                a->r += s.r; a->r2 += s.r * s.r; a->r4 += s.r * s.r * s.r * s.r; a->S += s.S; a->q += s.q;
                double *bt = a->batch[(long)a->samples * AB_SIM_MAX_BATCHES / samples];
                bt[B_R] += s.r; bt[B_R2] += s.r * s.r; bt[B_R4] += s.r * s.r * s.r * s.r; bt[B_S] += s.S; bt[B_Q] += s.q;
                a->batch_count[(long)a->samples * AB_SIM_MAX_BATCHES / samples]++;
                for (int c = 0; c < d; c++) a->mean[c] += s.mean[c];
                for (int c = 0; c < d * d; c++) a->second[c] += s.second[c];
                ab_particles_pair_histogram(&p, bins, hq + (size_t)k * bins, &a->abs_q, &a->pairs);
                int rb = (int)floor(s.r * bins);
                hr[(size_t)k * 2 * bins + (rb < bins ? rb : bins - 1)] += 1.0;
                /* S lies in [-1/(d-1), 1] */
                int sb = (int)floor((s.S + 1.0 / (d - 1)) / (1.0 + 1.0 / (d - 1)) * bins);
                hr[(size_t)k * 2 * bins + bins + (sb < 0 ? 0 : sb < bins ? sb : bins - 1)] += 1.0;
                if (k == 0 && res->series) {
                    double *row = res->series + 4 * (size_t)a->samples;
                    row[0] = (step - burn) * dt; row[1] = s.r; row[2] = s.S; row[3] = s.q;
                }
                a->samples++;
            }
            if (step % 256 == 0) {
#pragma omp atomic
                done += 256;
#ifdef _OPENMP
                if (progress && omp_get_thread_num() == 0) progress(progress_ctx, (double)done / ((double)total * R));
#else
                if (progress) progress(progress_ctx, (double)done / ((double)total * R));
#endif
            }
        }
        ab_particles_free(&p);
    }
    if (failed) {
        free(acc); free(moments); free(hq); free(hr); ab_sim_result_free(res);
        *err = first_err;
        return first_err.code ? first_err.code : AB_ENOMEM;
    }
    if (progress) progress(progress_ctx, 1.0);
    /* Replica averages, then mean +- standard error across replicas. */
    double *v[7];
    for (int i = 0; i < 7; i++) v[i] = malloc(sizeof(double) * R);
    for (int k = 0; k < R; k++) {
        replica_acc *a = &acc[k];
        double m = a->samples;
        a->r /= m; a->r2 /= m; a->r4 /= m; a->S /= m; a->q /= m;
        a->abs_q = a->pairs ? a->abs_q / a->pairs : NAN;
        for (int c = 0; c < d; c++) a->mean[c] /= m;
        for (int c = 0; c < d * d; c++) a->second[c] /= m;
        v[0][k] = a->r; v[1][k] = a->r2; v[2][k] = a->r4; v[3][k] = a->S; v[4][k] = a->q; v[5][k] = a->abs_q;
        v[6][k] = a->lyap / (samples * every * dt);
    }
    res->n = n; res->d = d; res->replicas = R; res->samples_per_replica = (int)samples;
    for (int b = 0; b < 2; b++) {
        res->residence[b] = (ab_estimate){NAN, NAN};
        res->residence_count[b] = 0;
    }
    res->transitions = 0;
    if (sim->switching) {
        double sum[2] = {0, 0}, sumsq[2] = {0, 0};
        for (int k = 0; k < R; k++) {
            res->transitions += acc[k].transitions;
            for (int b = 0; b < 2; b++) {
                res->residence_count[b] += acc[k].count[b];
                sum[b] += acc[k].sum[b];
                sumsq[b] += acc[k].sumsq[b];
            }
        }
        for (int b = 0; b < 2; b++) {
            const long c = res->residence_count[b];
            if (c < 1) continue;
            res->residence[b].mean = sum[b] / c;
            if (c >= 2) {
                const double var = fmax(0.0, (sumsq[b] - sum[b] * sum[b] / c) / (c - 1));
                res->residence[b].err = sqrt(var / c);
            }
        }
    }
    res->kappa = kappa; res->beta = model->beta; res->dt = dt;
    /* Batch means: each replica's measured time in per_replica batches, at least 16 batches
     * in all (15 degrees of freedom for the error), as long as possible otherwise. The
     * estimate is honest when a batch is much longer than the autocorrelation time; tau_r
     * (the integrated autocorrelation time of r implied by the batch variance) says whether
     * it is. */
    int per_replica = 1;
    while (per_replica * R < 16 && per_replica < AB_SIM_MAX_BATCHES && per_replica * 2 <= samples) per_replica *= 2;
    const int NB = R * per_replica;
    double *bm = malloc(sizeof(double) * (size_t)NB * B_STATS);
    if (!bm) {
        free(bm); free(acc); free(moments); free(hq); free(hr); ab_sim_result_free(res);
        for (int i = 0; i < 7; i++) free(v[i]);
        return ab_error_set(err, AB_ENOMEM, "out of memory");
    }
    for (int st2 = 0; st2 < B_STATS; st2++) batch_means(acc, R, per_replica, st2, bm + (size_t)st2 * NB);
    res->batches = NB;
    res->r = estimate(bm + B_R * NB, NB); res->r2 = estimate(bm + B_R2 * NB, NB); res->r4 = estimate(bm + B_R4 * NB, NB);
    res->S = estimate(bm + B_S * NB, NB); res->q = estimate(bm + B_Q * NB, NB);
    res->abs_q = estimate(v[5], R);
    res->lyapunov = sim->lyapunov ? estimate(v[6], R) : (ab_estimate){NAN, NAN};
    res->binder = jackknife(bm + B_R * NB, bm + B_R2 * NB, bm + B_R4 * NB, NB, n, d, 0);
    res->chi = jackknife(bm + B_R * NB, bm + B_R2 * NB, bm + B_R4 * NB, NB, n, d, 1);
    if (NB < AB_SIM_MIN_BATCHES) {
        /* Not enough batches for an error bar: the means stay, everything resting on the
         * spread of the batches is null, and the caller is told (docs/spec-simulation.md). */
        res->r.err = res->r2.err = res->r4.err = res->S.err = res->q.err = NAN;
        res->binder = res->chi = (ab_estimate){NAN, NAN};
        res->incomplete = 1;
        snprintf(res->note, sizeof res->note,
                 "r_err, S_err, q_err, binder and chi are null: %d batch means (%d replicas x %d per replica, from %ld "
                 "samples per replica) where %d are needed; raise replicas or t_measure / sample_every",
                 NB, R, per_replica, samples, AB_SIM_MIN_BATCHES);
    }
    if (sim->switching && (res->residence_count[0] < AB_SIM_MIN_INTERVALS || res->residence_count[1] < AB_SIM_MIN_INTERVALS)) {
        /* too few completed residence intervals for a mean with an error bar */
        for (int b = 0; b < 2; b++)
            if (res->residence_count[b] < AB_SIM_MIN_INTERVALS) res->residence[b] = (ab_estimate){NAN, NAN};
        res->incomplete = 1;
        const size_t len = strlen(res->note);
        snprintf(res->note + len, sizeof res->note - len,
                 "%sswitching: %ld transitions seen, %ld and %ld completed intervals in the low and high basins where %d "
                 "are needed for a mean residence time: raise t_measure or replicas",
                 len ? "; " : "", res->transitions, res->residence_count[0], res->residence_count[1], AB_SIM_MIN_INTERVALS);
    }
    /* tau_int = (samples per batch) Var(batch mean) / (2 Var(sample)), in time units. */
    {
        const double var_r = res->r2.mean - res->r.mean * res->r.mean;
        const double per_batch = (double)samples / per_replica;
        const double var_bm = res->r.err * res->r.err * NB;
        res->tau_r = var_r > 0.0 ? 0.5 * per_batch * var_bm / var_r * every * dt : NAN;
        res->batch_time = per_batch * every * dt;
    }
    free(bm);
    /* One-point law: the mean position and the deviation of E[x x^T] from I/d, with their
     * replica standard errors combined into a norm. */
    double mnorm = 0.0, merr = 0.0, dev = 0.0, deverr = 0.0;
    for (int c = 0; c < d; c++) {
        for (int k = 0; k < R; k++) v[0][k] = acc[k].mean[c];
        ab_estimate e = estimate(v[0], R);
        mnorm += e.mean * e.mean; merr += e.err * e.err;
        for (int c2 = 0; c2 < d; c2++) {
            for (int k = 0; k < R; k++) v[0][k] = acc[k].second[c + c2 * d] - (c == c2 ? 1.0 / d : 0.0);
            e = estimate(v[0], R);
            if (fabs(e.mean) / fmax(e.err, 1e-300) > dev / fmax(deverr, 1e-300)) { dev = fabs(e.mean); deverr = e.err; }
        }
    }
    res->mean_x_norm = (ab_estimate){sqrt(mnorm), sqrt(merr)};
    res->second_moment = (ab_estimate){dev, deverr};
    for (int i = 0; i < 7; i++) free(v[i]);
    /* Histograms as densities. */
    res->bins = bins;
    res->hist_q = calloc((size_t)bins, sizeof(double));
    res->hist_r = calloc((size_t)bins, sizeof(double));
    res->hist_S = calloc((size_t)bins, sizeof(double));
    res->S_lo = -1.0 / (d - 1);
    res->S_hi = 1.0;
    if (!res->hist_q || !res->hist_r || !res->hist_S) { free(acc); free(moments); free(hq); free(hr); ab_sim_result_free(res); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    double tq = 0.0, tr = 0.0;
    for (int b = 0; b < bins; b++)
        for (int k = 0; k < R; k++) {
            res->hist_q[b] += hq[(size_t)k * bins + b];
            res->hist_r[b] += hr[(size_t)k * 2 * bins + b];
            res->hist_S[b] += hr[(size_t)k * 2 * bins + bins + b];
        }
    for (int b = 0; b < bins; b++) { tq += res->hist_q[b]; tr += res->hist_r[b]; }
    for (int b = 0; b < bins; b++) {
        res->hist_q[b] /= tq * (2.0 / bins);
        res->hist_r[b] /= tr * (1.0 / bins);
        res->hist_S[b] /= tr * ((res->S_hi - res->S_lo) / bins); /* as many S samples as r samples */
    }
    res->n_series = res->series ? acc[0].samples : 0;
    free(acc); free(moments); free(hq); free(hr);
    return AB_OK;
}

ab_status ab_kappa_c_estimate(int count, const double *kappa, const double *chi, const double *chi_err,
                              double *kappa_c, double *error, ab_error *err)
{
    if (count < 3) return ab_error_set(err, AB_EINVAL, "kappa_c needs at least 3 kappa values (got %d)", count);
    int m = 0;
    for (int i = 1; i < count; i++) {
        if (!(kappa[i] > kappa[i - 1])) return ab_error_set(err, AB_EINVAL, "kappa values must increase");
        if (chi[i] > chi[m]) m = i;
    }
    if (m == 0 || m == count - 1) {
        *kappa_c = kappa[m];
        *error = 0.5 * (kappa[count - 1] - kappa[0]) / (count - 1);
        return ab_error_set(err, AB_ENOCONV,
                            "the susceptibility peaks at the edge of the sweep (kappa = %g): widen the kappa range",
                            kappa[m]);
    }
    /* Vertex of the parabola through (k_{m-1}, c_{m-1}), (k_m, c_m), (k_{m+1}, c_{m+1}). */
    double x0 = kappa[m - 1], x1 = kappa[m], x2 = kappa[m + 1], y0 = chi[m - 1], y1 = chi[m], y2 = chi[m + 1];
    double den = (x0 - x1) * (x0 - x2) * (x1 - x2);
    double A = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / den;
    double B = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / den;
    double vertex = A < 0 ? -B / (2 * A) : x1;
    if (vertex < x0 || vertex > x2) vertex = x1;
    /* Error: shift of the vertex under +-1 sigma of each of the three chi values, in
     * quadrature, plus a quarter of the grid spacing for the model (parabola) error. */
    double var = 0.0;
    const double xs[3] = {x0, x1, x2};
    double ys[3] = {y0, y1, y2};
    for (int j = 0; j < 3; j++) {
        double save = ys[j];
        ys[j] = save + (isfinite(chi_err[m - 1 + j]) ? chi_err[m - 1 + j] : 0.0);
        double a = (xs[2] * (ys[1] - ys[0]) + xs[1] * (ys[0] - ys[2]) + xs[0] * (ys[2] - ys[1])) / den;
        double b = (xs[2] * xs[2] * (ys[0] - ys[1]) + xs[1] * xs[1] * (ys[2] - ys[0]) + xs[0] * xs[0] * (ys[1] - ys[2])) / den;
        double v2 = a < 0 ? -b / (2 * a) : x1;
        if (v2 < x0 || v2 > x2) v2 = x1;
        var += (v2 - vertex) * (v2 - vertex);
        ys[j] = save;
    }
    double h = 0.5 * (x2 - x0);
    *kappa_c = vertex;
    *error = sqrt(var + 0.0625 * h * h);
    return AB_OK;
}

ab_status ab_kappa_c_binder_crossing(int count, const double *kappa, const double *u_small, const double *u_small_err,
                                     const double *u_large, const double *u_large_err, double *kappa_c, double *error,
                                     ab_error *err)
{
    if (count < 2) return ab_error_set(err, AB_EINVAL, "a Binder crossing needs at least 2 kappa values (got %d)", count);
    for (int i = 1; i < count; i++)
        if (!(kappa[i] > kappa[i - 1])) return ab_error_set(err, AB_EINVAL, "kappa values must increase");
    int found = 0, closest = 0;
    double best_kc = NAN, best_err = NAN, best_signif = -1.0;
    for (int i = 0; i < count; i++) {
        double di = u_large[i] - u_small[i], dc = u_large[closest] - u_small[closest];
        if (isfinite(di) && (!isfinite(dc) || fabs(di) < fabs(dc))) closest = i;
        if (i + 1 == count) break;
        double d0 = di, d1 = u_large[i + 1] - u_small[i + 1];
        if (!isfinite(d0) || !isfinite(d1) || !(d0 > 0.0 && d1 <= 0.0)) continue;
        /* Variances of the two differences (replica errors of the two sizes are independent). */
        double v0 = 0.0, v1 = 0.0;
        if (isfinite(u_small_err[i])) v0 += u_small_err[i] * u_small_err[i];
        if (isfinite(u_large_err[i])) v0 += u_large_err[i] * u_large_err[i];
        if (isfinite(u_small_err[i + 1])) v1 += u_small_err[i + 1] * u_small_err[i + 1];
        if (isfinite(u_large_err[i + 1])) v1 += u_large_err[i + 1] * u_large_err[i + 1];
        const double h = kappa[i + 1] - kappa[i], den = d0 - d1;
        const double kc = kappa[i] + h * d0 / den;
        /* d kc / d d0 = -h d1 / den^2, d kc / d d1 = h d0 / den^2; the interpolation cannot
         * leave its interval, so the error is capped at the interval's width. */
        const double e = fmin(h, sqrt(v0 * d1 * d1 + v1 * d0 * d0) * h / (den * den));
        const double signif = den / sqrt(fmax(v0 + v1, 1e-300));
        if (signif > 2.0) found++;
        if (signif > best_signif) { best_signif = signif; best_kc = kc; best_err = e; }
    }
    if (best_signif < 0.0 || found > 1) {
        *kappa_c = best_signif < 0.0 ? kappa[closest] : best_kc;
        *error = 0.5 * (kappa[count - 1] - kappa[0]);
        if (found > 1)
            return ab_error_set(err, AB_ENOCONV,
                                "the Binder cumulants cross %d times significantly: more replicas or a narrower sweep", found);
        return ab_error_set(err, AB_ENOCONV, "the Binder cumulants do not cross in the sweep: widen the kappa range");
    }
    *kappa_c = best_kc;
    *error = best_err;
    return AB_OK;
}

typedef struct {
    ab_model_kind kind;
    double beta, kappa, shift;
    int moment;
} law_args;

/* W(q)/kappa - shift, W' = w (docs/theory.md, Two tokens), in forms without overflow. */
static double law_exponent(const law_args *a, double q)
{
    double W;
    if (a->beta == 0.0) W = 0.5 * q;
    else if (a->kind == AB_MODEL_SA) W = (a->beta + log1p(exp(a->beta * (q - 1.0)))) / a->beta; /* log(e^b + e^{bq})/b */
    else W = exp(a->beta * q) / (2.0 * a->beta);
    return W / a->kappa - a->shift;
}

static double law_integrand(double q, void *vp)
{
    const law_args *a = vp;
    return exp(law_exponent(a, q)) * (a->moment ? q : 1.0);
}

/* The shift that keeps the law's exponent <= 0 and the normaliser Z = int p of the n = 2
 * law (qaws: the (1 - q^2)^alpha weight is singular for d = 2). */
static ab_status law_normaliser(law_args *a, double alpha, double *Z, ab_error *err)
{
    a->shift = fmax(law_exponent(a, 1.0), law_exponent(a, -1.0));
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(1000);
    gsl_integration_qaws_table *tab = gsl_integration_qaws_table_alloc(alpha, alpha, 0, 0);
    if (!ws || !tab) {
        if (ws) gsl_integration_workspace_free(ws);
        if (tab) gsl_integration_qaws_table_free(tab);
        return ab_error_set(err, AB_ENOMEM, "out of memory");
    }
    gsl_function f = {law_integrand, a};
    double abserr;
    const int moment = a->moment;
    a->moment = 0;
    int s = gsl_integration_qaws(&f, -1.0, 1.0, tab, 0.0, 1e-12, 1000, ws, Z, &abserr);
    if (!s && moment) {
        /* the mean's numerator in *(Z + 1) */
        a->moment = 1;
        s = gsl_integration_qaws(&f, -1.0, 1.0, tab, 0.0, 1e-12, 1000, ws, Z + 1, &abserr);
        a->moment = 0;
    }
    gsl_integration_workspace_free(ws);
    gsl_integration_qaws_table_free(tab);
    return s ? ab_error_set(err, AB_ENOCONV, "quadrature of the n = 2 law failed") : AB_OK;
}

/* The unnormalised density (1-q^2)^alpha e^{W/kappa - shift} of the n = 2 law. */
static double law_density(const law_args *a, double alpha, double q)
{
    return pow(1.0 - q * q, alpha) * exp(law_exponent(a, q));
}

/* Points of the Gauss-Jacobi rule behind P(y) = int_{-1}^{y} p / Z (p smooth on [-1, y]
 * apart from the (1 + q)^alpha factor, which is the rule's weight). */
#define AB_PASSAGE_POINTS 64

typedef struct {
    const law_args *a;
    double alpha, Z;
    int upper; /* 0: P(y) (reflection at -1, passage upwards); 1: 1 - P(y) */
} passage_args;

/* P(y) or 1 - P(y) over D(y) p(y), D = 2 kappa (1 - y^2): the integrand of the mean
 * first-passage time between the thresholds (docs/metastability.md). */
static double passage_integrand(double y, void *vp)
{
    const passage_args *pa = vp;
    gsl_integration_fixed_workspace *fw =
        gsl_integration_fixed_alloc(gsl_integration_fixed_jacobi, AB_PASSAGE_POINTS, -1.0, y, 0.0, pa->alpha);
    if (!fw) return NAN;
    const double *x = gsl_integration_fixed_nodes(fw), *w = gsl_integration_fixed_weights(fw);
    double sum = 0.0;
    for (int i = 0; i < AB_PASSAGE_POINTS; i++) sum += w[i] * pow(1.0 - x[i], pa->alpha) * exp(law_exponent(pa->a, x[i]));
    gsl_integration_fixed_free(fw);
    const double P = sum / pa->Z, dens = law_density(pa->a, pa->alpha, y) / pa->Z,
                 D = 2.0 * pa->a->kappa * (1.0 - y * y);
    return (pa->upper ? 1.0 - P : P) / (D * dens);
}

ab_status ab_pair_residence_times(ab_model_kind kind, int d, double beta, double kappa, double r_lo, double r_hi,
                                  double *t_low, double *t_high, ab_error *err)
{
    if (!(r_lo > 0.0 && r_lo < r_hi && r_hi < 1.0))
        return ab_error_set(err, AB_EINVAL, "residence times need 0 < r_lo < r_hi < 1");
    law_args a = {kind, beta, kappa, 0.0, 0};
    const double alpha = 0.5 * (d - 3);
    double Z;
    ab_status zst = law_normaliser(&a, alpha, &Z, err);
    if (zst) return zst;
    passage_args pa = {&a, alpha, Z, 0};
    /* q at the thresholds: r = sqrt((1 + q)/2) */
    const double q_lo = 2.0 * r_lo * r_lo - 1.0, q_hi = 2.0 * r_hi * r_hi - 1.0;
    gsl_integration_workspace *ws2 = gsl_integration_workspace_alloc(1000);
    double T[2] = {NAN, NAN}, abserr;
    int s2 = ws2 ? 0 : 1;
    for (int up = 0; up < 2 && !s2; up++) {
        pa.upper = up;
        gsl_function g = {passage_integrand, &pa};
        s2 = gsl_integration_qag(&g, q_lo, q_hi, 0.0, 1e-11, 1000, GSL_INTEG_GAUSS31, ws2, &T[up], &abserr);
    }
    if (ws2) gsl_integration_workspace_free(ws2);
    if (s2 || !isfinite(T[0]) || !isfinite(T[1]))
        return ab_error_set(err, AB_ENOCONV, "quadrature of the n = 2 passage times failed");
    *t_low = T[0];
    *t_high = T[1];
    return AB_OK;
}

ab_status ab_pair_overlap_law(ab_model_kind kind, int d, double beta, double kappa, int bins, double *mean,
                              double *bin_prob, ab_error *err)
{
    law_args a = {kind, beta, kappa, 0.0, 1};
    double alpha = 0.5 * (d - 3), ZM[2];
    ab_status st = law_normaliser(&a, alpha, ZM, err);
    const double Z = ZM[0];
    if (!st) *mean = ZM[1] / Z;
    /* Bins by 64-point Gauss rules: Gauss-Jacobi on the two end bins, where the weight
     * (1-q^2)^alpha is singular (d = 2) or not smooth, Gauss-Legendre inside. */
    for (int b = 0; b < bins && !st && bin_prob; b++) {
        const double lo = -1.0 + 2.0 * b / bins, hi = -1.0 + 2.0 * (b + 1) / bins;
        const int m = 64, left = b == 0, right = b == bins - 1;
        gsl_integration_fixed_workspace *fw =
            (left || right) ? gsl_integration_fixed_alloc(gsl_integration_fixed_jacobi, m, lo, hi, right ? alpha : 0.0,
                                                          left ? alpha : 0.0)
                            : gsl_integration_fixed_alloc(gsl_integration_fixed_legendre, m, lo, hi, 0.0, 0.0);
        if (!fw) { st = ab_error_set(err, AB_ENOMEM, "out of memory"); break; }
        const double *x = gsl_integration_fixed_nodes(fw), *w = gsl_integration_fixed_weights(fw);
        double sum = 0.0;
        for (int i = 0; i < m; i++) {
            /* the part of (1 - q)^alpha (1 + q)^alpha not in the rule's weight */
            double rest = (right ? 1.0 : pow(1.0 - x[i], alpha)) * (left ? 1.0 : pow(1.0 + x[i], alpha));
            sum += w[i] * exp(law_exponent(&a, x[i])) * rest;
        }
        gsl_integration_fixed_free(fw);
        bin_prob[b] = sum / Z;
    }
    return st;
}

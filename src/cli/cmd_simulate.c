/* `attnbif simulate SPEC`: finite-n particle simulation, one point or a (kappa, n) sweep
 * with finite-n kappa_c estimates. */
#include "cli/cli.h"

#include "attnbif/progress.h"
#include "attnbif/sim_out.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One progress bar for the whole job: simulation i covers [base, base + share) of it. */
typedef struct {
    ab_progress *bar;
    double base, share;
} job_progress;

static void on_progress(void *ctx, double fraction)
{
    const job_progress *job = ctx;
    ab_progress_update(job->bar, job->base + job->share * fraction);
}

/* Relative cost of one simulation (for the progress bar's ETA only). */
static double sim_work(const ab_spec *spec, int n, double kappa)
{
    double dt = 0.01;
    ab_error ignored = {0};
    if (ab_sim_choose_dt(spec->model.kind, spec->model.d, spec->model.beta, kappa, &spec->simulation, &dt, &ignored)) dt = 0.01;
    const ab_sim_spec *sim = &spec->simulation;
    return ((double)n * n + 50.0 * n) * (sim->t_burn + sim->t_measure) / dt * (sim->lyapunov ? 2.0 : 1.0);
}

typedef struct {
    const ab_spec *spec;
    const ab_sim_result *res;
    int count;
    const ab_kappa_c_row *kc;
    int n_kc;
} sim_output;

static ab_status write_result(const char *dir, const void *ctx, ab_error *err)
{
    const sim_output *o = ctx;
    return ab_write_sim(dir, o->spec, o->res, o->count, o->kc, o->n_kc, err);
}

static int all_finite(int count, const double *v)
{
    for (int i = 0; i < count; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

/* An estimate that cannot be made is null with its reason: no number that looks like one. */
static void kc_fail(ab_kappa_c_row *row, const char *why)
{
    row->kappa_c = row->error = NAN;
    snprintf(row->note, sizeof row->note, "%.*s", (int)sizeof row->note - 1, why);
}

int ab_cmd_simulate(const ab_cli_args *args)
{
    ab_spec *spec = calloc(1, sizeof *spec);
    ab_error err = {0};
    if (!spec) return AB_EXIT_INTERNAL;
    int code = ab_cli_load(args, "simulate", spec);
    if (code) { free(spec); return code; }
    ab_status st = AB_OK;
    if (!spec->has_simulation)
        st = ab_error_set(&err, AB_ESPEC, "%s: `simulate` needs a `simulation` section (see docs/spec-simulation.md)",
                          args->spec_path);
    if (st) { free(spec); return ab_cli_fail(st, &err); }
    const ab_sim_spec *sim = &spec->simulation;
    const int sweep = sim->n_kappa > 0, n_k = sweep ? sim->n_kappa : 1, n_n = sweep ? sim->n_sizes : 1;
    const int count = n_k * n_n;
    /* Check every time step before any work: a bad dt is an input error. */
    for (int a = 0; a < n_k && !st; a++) {
        double dt, kappa = sweep ? sim->kappa[a] : spec->kappa;
        st = ab_sim_choose_dt(spec->model.kind, spec->model.d, spec->model.beta, kappa, sim, &dt, &err);
        if (!st && !args->quiet && a == 0)
            fprintf(stderr, "attnbif simulate: %s model, d = %d, beta = %g, dt = %.3g (%s)\n",
                    ab_model_kind_name(spec->model.kind), spec->model.d, spec->model.beta, dt,
                    sim->dt > 0 ? "from the spec, checked" : "chosen from the rate bound");
    }
    if (st) { free(spec); return ab_cli_fail(st, &err); }
    const char *dir = ab_cli_output_dir(args, spec);
    ab_outdir *od = NULL;
    if ((st = ab_cli_output_lock(dir, args->quiet, &od, &err))) { free(spec); return ab_cli_fail(st, &err); }
    ab_sim_result *res = calloc((size_t)count, sizeof *res);
    ab_kappa_c_row *kc = calloc(2 * (size_t)n_n, sizeof *kc);
    if (!res || !kc) { ab_cli_output_release(od); free(res); free(kc); free(spec); return AB_EXIT_INTERNAL; }
    /* The ETA weighs each simulation by its cost: steps times (n^2 drift pairs + per-token work). */
    double total_work = 0.0;
    for (int b = 0; b < n_n; b++)
        for (int a = 0; a < n_k; a++) total_work += sim_work(spec, sweep ? sim->sizes[b] : sim->n, sweep ? sim->kappa[a] : spec->kappa);
    char label[96];
    snprintf(label, sizeof label, "simulate (%d simulation%s)", count, count > 1 ? "s" : "");
    job_progress job = {ab_progress_create(label, args->quiet ? NULL : stderr), 0.0, 0.0};
    int done = 0;
    for (int b = 0; b < n_n && !st; b++)
        for (int a = 0; a < n_k && !st; a++, done++) {
            int n = sweep ? sim->sizes[b] : sim->n;
            double kappa = sweep ? sim->kappa[a] : spec->kappa;
            job.share = sim_work(spec, n, kappa) / total_work;
            st = ab_sim_run(&spec->model, kappa, n, sim, (unsigned long)(1000 * b + a), job.bar ? on_progress : NULL, &job,
                            &res[done], &err);
            job.base += job.share;
        }
    ab_progress_finish(job.bar);
    /* kappa_c_n.csv: the susceptibility peak of every n, and the Binder-cumulant crossing of
     * every n with the next smaller n of the sweep (its row carries the larger n). */
    int n_kc = 0;
    if (!st && sweep && n_k >= 3) {
        double *buf = malloc(sizeof(double) * 6 * (size_t)n_k);
        int *order = malloc(sizeof(int) * (size_t)n_n);
        if (!buf || !order) st = ab_error_set(&err, AB_ENOMEM, "out of memory");
        for (int b = 0; b < n_n && !st; b++) {
            double *kap = buf, *chi = buf + n_k, *chie = buf + 2 * n_k;
            for (int a = 0; a < n_k; a++) {
                kap[a] = res[b * n_k + a].kappa;
                chi[a] = res[b * n_k + a].chi.mean;
                chie[a] = res[b * n_k + a].chi.err;
            }
            ab_kappa_c_row *row = &kc[n_kc++];
            row->n = sim->sizes[b];
            row->method = "susceptibility_peak";
            ab_error kerr = {0};
            if (!all_finite(n_k, chi))
                kc_fail(row, "the susceptibility is null at some kappa (too few batch means: see the stats' notes)");
            else if (ab_kappa_c_estimate(n_k, kap, chi, chie, &row->kappa_c, &row->error, &kerr))
                kc_fail(row, kerr.msg);
        }
        for (int b = 0; b < n_n && !st; b++) order[b] = b;
        for (int b = 1; b < n_n && !st; b++) /* insertion sort by n: few sizes */
            for (int c = b; c > 0 && sim->sizes[order[c]] < sim->sizes[order[c - 1]]; c--) {
                int tmp = order[c]; order[c] = order[c - 1]; order[c - 1] = tmp;
            }
        for (int c = 1; c < n_n && !st; c++) {
            const int lo = order[c - 1], hi = order[c];
            if (sim->sizes[lo] == sim->sizes[hi]) continue;
            double *kap = buf, *us = buf + n_k, *use = buf + 2 * n_k, *ul = buf + 3 * n_k, *ule = buf + 4 * n_k;
            for (int a = 0; a < n_k; a++) {
                kap[a] = res[lo * n_k + a].kappa;
                us[a] = res[lo * n_k + a].binder.mean;
                use[a] = res[lo * n_k + a].binder.err;
                ul[a] = res[hi * n_k + a].binder.mean;
                ule[a] = res[hi * n_k + a].binder.err;
            }
            ab_kappa_c_row *row = &kc[n_kc++];
            row->n = sim->sizes[hi];
            row->method = "binder_crossing";
            ab_error kerr = {0};
            char why[200];
            if (!all_finite(n_k, us) || !all_finite(n_k, ul)) {
                snprintf(why, sizeof why, "with n = %d: the Binder cumulant is null at some kappa (too few batch means: "
                         "see the stats' notes)", sim->sizes[lo]);
                kc_fail(row, why);
            } else if (ab_kappa_c_binder_crossing(n_k, kap, us, use, ul, ule, &row->kappa_c, &row->error, &kerr)) {
                snprintf(why, sizeof why, "with n = %d: %.150s", sim->sizes[lo], kerr.msg);
                kc_fail(row, why);
            }
            else
                snprintf(row->note, sizeof row->note, "crossing of n = %d and n = %d", sim->sizes[lo], sim->sizes[hi]);
        }
        free(buf);
        free(order);
    }
    if (!st) {
        sim_output out = {spec, res, count, kc, n_kc};
        st = ab_cli_output_write(od, write_result, &out, &err);
    } else {
        ab_cli_output_release(od);
    }
    if (!st) {
        if (count == 1)
            printf("r = %.6f +- %.2g, q = %.6f +- %.2g (%d batch means of %.3g time units; autocorrelation time of r "
                   "%.3g)\nresults written to %s/ (summary.json, histograms.csv, timeseries.csv)\n",
                   res[0].r.mean, res[0].r.err, res[0].q.mean, res[0].q.err, res[0].batches, res[0].batch_time, res[0].tau_r,
                   dir);
        else
            printf("%d simulations; results written to %s/ (sweep.csv, kappa_c_n.csv, sweep.svg, summary.json)\n", count, dir);
        for (int i = 0; i < count && spec->simulation.switching; i++)
            printf("n = %d, kappa = %g: %ld transitions; mean residence in r < %g: %.6g +- %.2g (%ld intervals), in r > %g: "
                   "%.6g +- %.2g (%ld intervals)\n",
                   res[i].n, res[i].kappa, res[i].transitions, spec->simulation.switch_lo, res[i].residence[0].mean,
                   res[i].residence[0].err, res[i].residence_count[0], spec->simulation.switch_hi, res[i].residence[1].mean,
                   res[i].residence[1].err, res[i].residence_count[1]);
        for (int i = 0; i < count; i++)
            if (res[i].batch_time < 5.0 * res[i].tau_r)
                fprintf(stderr,
                        "attnbif simulate: warning: n = %d, kappa = %g: batches of %.3g time units are not much longer "
                        "than the autocorrelation time of r (%.3g): error bars may be too small; raise t_measure\n",
                        res[i].n, res[i].kappa, res[i].batch_time, res[i].tau_r);
    }
    /* Results are written, but a statistic that was asked for and could not be computed is
     * a numerical failure: exit 3 (docs/cli.md), each reason on stderr. */
    int missing = 0;
    for (int i = 0; !st && i < count; i++)
        if (res[i].incomplete) {
            missing++;
            fprintf(stderr, "attnbif simulate: n = %d, kappa = %g: %s\n", res[i].n, res[i].kappa, res[i].note);
        }
    for (int i = 0; !st && i < n_kc; i++)
        if (!isfinite(kc[i].kappa_c)) {
            missing++;
            fprintf(stderr, "attnbif simulate: kappa_c (%s) of n = %d is null: %s\n", kc[i].method, kc[i].n, kc[i].note);
        }
    if (!st && missing)
        st = ab_error_set(&err, AB_ENOCONV,
                          "%d statistic%s could not be computed (null in the results written to %s/, reasons above)",
                          missing, missing > 1 ? "s" : "", dir);
    for (int i = 0; i < count; i++) ab_sim_result_free(&res[i]);
    free(res);
    free(kc);
    free(spec);
    return st ? ab_cli_fail(st, &err) : AB_EXIT_OK;
}

/* Writers for `attnbif simulate`: summary.json, histograms.csv, timeseries.csv, and for
 * sweeps sweep.csv, kappa_c_n.csv and sweep.svg. */
#include "attnbif/results.h"
#include "attnbif/sim_out.h"
#include "io/svg.h"

#include <math.h>
#include <stdio.h>

static void kv_est(ab_json *j, const char *name, ab_estimate e)
{
    char key[64];
    snprintf(key, sizeof key, "%s_mean", name);
    ab_json_kv_number(j, key, e.mean);
    snprintf(key, sizeof key, "%s_err", name);
    ab_json_kv_number(j, key, e.err);
}

/* A CSV field: the number, or nothing (CSV's null) when it is not finite; the reason is
 * in summary.json's notes. */
static void csv_num(FILE *out, const char *fmt, double v)
{
    if (isfinite(v)) fprintf(out, fmt, v);
}

static void json_stats(ab_json *j, const ab_sim_result *r)
{
    ab_json_begin_object(j);
    ab_json_kv_int(j, "n", r->n);
    ab_json_kv_number(j, "kappa", r->kappa);
    ab_json_kv_number(j, "dt", r->dt);
    ab_json_kv_int(j, "replicas", r->replicas);
    ab_json_kv_int(j, "samples_per_replica", r->samples_per_replica);
    kv_est(j, "r", r->r);
    kv_est(j, "S", r->S);
    kv_est(j, "q", r->q);
    kv_est(j, "abs_q", r->abs_q);
    kv_est(j, "binder", r->binder);
    kv_est(j, "chi", r->chi);
    kv_est(j, "lyapunov", r->lyapunov);
    kv_est(j, "one_point_mean_norm", r->mean_x_norm);
    kv_est(j, "one_point_second_moment_dev", r->second_moment);
    if (r->residence_count[0] + r->residence_count[1] > 0 || r->transitions > 0) {
        /* switching between basins (docs/metastability.md) */
        ab_json_key(j, "switching");
        ab_json_begin_object(j);
        ab_json_kv_int(j, "transitions", r->transitions);
        static const char *const names[2] = {"residence_low", "residence_high"};
        for (int b = 0; b < 2; b++) {
            ab_json_key(j, names[b]);
            ab_json_begin_object(j);
            ab_json_kv_number(j, "mean", r->residence[b].mean);
            ab_json_kv_number(j, "err", r->residence[b].err);
            ab_json_kv_int(j, "intervals", r->residence_count[b]);
            ab_json_end_object(j);
        }
        ab_json_end_object(j);
    }
    /* every null above has its reason here */
    ab_json_key(j, "notes");
    ab_json_begin_array(j);
    if (r->note[0]) ab_json_string(j, r->note);
    if (!isfinite(r->lyapunov.mean)) ab_json_string(j, "lyapunov is null: not requested (simulation.lyapunov: false)");
    ab_json_end_array(j);
    ab_json_end_object(j);
}

static void json_sim_spec(ab_json *j, const ab_sim_spec *s)
{
    ab_json_begin_object(j);
    ab_json_kv_int(j, "n", s->n);
    ab_json_kv_int(j, "replicas", s->replicas);
    ab_json_kv_int(j, "seed", (long)s->seed);
    ab_json_key(j, "dt");
    if (s->dt > 0) ab_json_number(j, s->dt);
    else ab_json_string(j, "auto");
    ab_json_kv_number(j, "t_burn", s->t_burn);
    ab_json_kv_number(j, "t_measure", s->t_measure);
    ab_json_kv_number(j, "sample_every", s->sample_every);
    ab_json_kv_int(j, "bins", s->bins);
    ab_json_kv_bool(j, "attention", s->attention);
    ab_json_kv_bool(j, "independent_noise", s->independent_noise);
    ab_json_kv_number(j, "common_noise_strength", s->common_noise);
    ab_json_kv_bool(j, "lyapunov", s->lyapunov);
    ab_json_kv_string(j, "initial", s->initial_cluster ? "cluster" : "uniform");
    if (s->switching) {
        ab_json_key(j, "switching");
        ab_json_begin_object(j);
        ab_json_kv_string(j, "observable", "r");
        ab_json_key(j, "thresholds");
        ab_json_begin_array(j);
        ab_json_number(j, s->switch_lo);
        ab_json_number(j, s->switch_hi);
        ab_json_end_array(j);
        ab_json_end_object(j);
    }
    ab_json_end_object(j);
}

static ab_status write_summary(const char *dir, const ab_spec *spec, const ab_sim_result *res, int count,
                               const ab_kappa_c_row *kc, int n_kc, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "summary.json", &f, err);
    if (st) return st;
    ab_json *j = ab_json_create(ab_file_stream(f));
    if (!j) { ab_file_abort(f); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    const ab_model *m = &spec->model;
    ab_json_begin_object(j);
    ab_json_summary_header(j, "simulate", spec);
    ab_json_key(j, "simulation");
    json_sim_spec(j, &spec->simulation);
    ab_json_kv_number(j, "mean_field_kappa_1", ab_kappa_l(m->kind, m->d, m->beta, 1));
    if (count == 1) {
        ab_json_key(j, "stats");
        json_stats(j, &res[0]);
    } else {
        ab_json_key(j, "stats");
        ab_json_begin_array(j);
        for (int i = 0; i < count; i++) json_stats(j, &res[i]);
        ab_json_end_array(j);
        ab_json_key(j, "kappa_c");
        ab_json_begin_array(j);
        for (int i = 0; i < n_kc; i++) {
            ab_json_begin_object(j);
            ab_json_kv_int(j, "n", kc[i].n);
            ab_json_kv_number(j, "kappa_c", kc[i].kappa_c);
            ab_json_kv_number(j, "error", kc[i].error);
            ab_json_kv_string(j, "method", kc[i].method);
            ab_json_kv_string(j, "note", kc[i].note);
            ab_json_end_object(j);
        }
        ab_json_end_array(j);
    }
    ab_json_end_object(j);
    ab_json_destroy(j);
    return ab_file_commit(f, err);
}

static ab_status write_histograms(const char *dir, const ab_sim_result *r, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "histograms.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    fprintf(out, "bin,q_lo,q_hi,q_density,r_lo,r_hi,r_density\n");
    for (int b = 0; b < r->bins; b++)
        fprintf(out, "%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", b, -1.0 + 2.0 * b / r->bins, -1.0 + 2.0 * (b + 1) / r->bins,
                r->hist_q[b], (double)b / r->bins, (double)(b + 1) / r->bins, r->hist_r[b]);
    return ab_file_commit(f, err);
}

static ab_status write_series(const char *dir, const ab_sim_result *r, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "timeseries.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    fprintf(out, "t,r,S,q\n");
    for (int i = 0; i < r->n_series; i++) {
        const double *row = r->series + 4 * (size_t)i;
        fprintf(out, "%.10g,%.17g,%.17g,%.17g\n", row[0], row[1], row[2], row[3]);
    }
    return ab_file_commit(f, err);
}

static ab_status write_sweep_csv(const char *dir, const ab_spec *spec, const ab_sim_result *res, int count, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "sweep.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    fprintf(out, "model,d,beta,n,kappa,r,r_err,S,S_err,q,q_err,binder,binder_err,chi,chi_err,lyapunov,lyapunov_err\n");
    for (int i = 0; i < count; i++) {
        const ab_sim_result *r = &res[i];
        const ab_estimate *e[6] = {&r->r, &r->S, &r->q, &r->binder, &r->chi, &r->lyapunov};
        fprintf(out, "%s,%d,%.17g,%d,%.17g", ab_model_kind_name(spec->model.kind), r->d, r->beta, r->n, r->kappa);
        for (int k = 0; k < 6; k++) {
            fputc(',', out);
            csv_num(out, "%.10g", e[k]->mean);
            fputc(',', out);
            csv_num(out, "%.3g", e[k]->err);
        }
        fputc('\n', out);
    }
    return ab_file_commit(f, err);
}

ab_status ab_write_kappa_c_csv(const char *path, const ab_spec *spec, const ab_kappa_c_row *rows, int count, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open(path, &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    const ab_model *m = &spec->model;
    fprintf(out, "model,d,beta,n,kappa_c,error,method,kappa_1_mean_field,note\n");
    for (int i = 0; i < count; i++) {
        /* a failed estimate has empty kappa_c and error and says why in note (quoted, with
         * inner quotes doubled) */
        fprintf(out, "%s,%d,%.17g,%d,", ab_model_kind_name(m->kind), m->d, m->beta, rows[i].n);
        csv_num(out, "%.10g", rows[i].kappa_c);
        fputc(',', out);
        csv_num(out, "%.3g", rows[i].error);
        fprintf(out, ",%s,%.17g,\"", rows[i].method, ab_kappa_l(m->kind, m->d, m->beta, 1));
        for (const char *c = rows[i].note; *c; c++) {
            if (*c == '"') fputc('"', out);
            fputc(*c == '\n' ? ' ' : *c, out);
        }
        fputs("\"\n", out);
    }
    return ab_file_commit(f, err);
}

/* r and the Binder cumulant against kappa, one curve (with error bars) per n. */
static ab_status write_sweep_svg(const char *dir, const ab_spec *spec, const ab_sim_result *res, int count, ab_error *err)
{
    const ab_sim_spec *s = &spec->simulation;
    double x0 = s->kappa[0], x1 = s->kappa[s->n_kappa - 1], k1 = ab_kappa_l(spec->model.kind, spec->model.d, spec->model.beta, 1);
    if (!(x1 > x0)) { x0 *= 0.9; x1 *= 1.1; }
    double bmin = 0.0, bmax = 1.0;
    for (int i = 0; i < count; i++) {
        if (isfinite(res[i].binder.mean)) { bmin = fmin(bmin, res[i].binder.mean); bmax = fmax(bmax, res[i].binder.mean); }
    }
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "sweep.svg", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    const double W = 760, H = 820;
    ab_svg_begin(out, W, H);
    fprintf(out, "<text x='%.0f' y='24' text-anchor='middle' font-size='15'>%s, d = %d, beta = %g: finite-n order "
                 "parameters (dotted: mean-field kappa_1)</text>\n",
            W / 2, ab_model_kind_name(spec->model.kind), spec->model.d, spec->model.beta);
    ab_svg_panel panels[2] = {{x0, x1, 0.0, 1.0, 80, 50, W - 200, 310}, {x0, x1, bmin - 0.05, bmax + 0.05, 80, 450, W - 200, 310}};
    const char *ylabel[2] = {"r (polar order)", "Binder cumulant"};
    for (int p = 0; p < 2; p++) {
        ab_svg_panel *P = &panels[p];
        ab_svg_axes(out, P, "kappa", ylabel[p]);
        if (k1 > x0 && k1 < x1)
            fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#555' stroke-dasharray='2,3'/>\n",
                    ab_svg_x(P, k1), P->top, ab_svg_x(P, k1), P->top + P->h);
        for (int q = 0; q < s->n_sizes; q++) {
            const char *col = ab_svg_colour(q);
            fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='1.6' points='", col);
            for (int i = 0; i < count; i++)
                if (res[i].n == s->sizes[q]) {
                    double y = p ? res[i].binder.mean : res[i].r.mean;
                    if (isfinite(y)) fprintf(out, "%.2f,%.2f ", ab_svg_x(P, res[i].kappa), ab_svg_y(P, y));
                }
            fprintf(out, "'/>\n");
            for (int i = 0; i < count; i++)
                if (res[i].n == s->sizes[q]) {
                    ab_estimate e = p ? res[i].binder : res[i].r;
                    if (!isfinite(e.mean)) continue;
                    double X = ab_svg_x(P, res[i].kappa), err2 = isfinite(e.err) ? e.err : 0.0;
                    fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s'/>\n", X, ab_svg_y(P, e.mean - err2),
                            X, ab_svg_y(P, e.mean + err2), col);
                    fprintf(out, "<circle cx='%.1f' cy='%.1f' r='2.5' fill='%s'/>\n", X, ab_svg_y(P, e.mean), col);
                }
        }
    }
    for (int q = 0; q < s->n_sizes; q++) {
        double y = 60 + 18 * q;
        fprintf(out, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='%s' stroke-width='2'/>\n", W - 105, y, W - 80, y,
                ab_svg_colour(q));
        fprintf(out, "<text x='%.0f' y='%.0f' font-size='11'>n = %d</text>\n", W - 75, y + 4, s->sizes[q]);
    }
    ab_svg_end(out);
    if ((st = ab_file_commit(f, err))) return st;
    if ((st = ab_png_from_svg(dir, "sweep.svg", err))) return st; /* a PNG beside every SVG */
    /* sweep.gp redraws it from sweep.csv (docs/simulation.md) */
    if ((st = ab_file_open_in(dir, "sweep.gp", &f, err))) return st;
    out = ab_file_stream(f);
    fprintf(out,
            "# Redraw sweep.svg from sweep.csv (columns 4 n, 5 kappa, 6 r, 7 r_err, 12 binder, 13 binder_err):\n"
            "# gnuplot sweep.gp writes sweep-gnuplot.png (sweep.png beside it is rsvg-convert's rendering).\n"
            "set datafile separator ','\n"
            "set terminal pngcairo size 760,820 font 'sans,10'\n"
            "set output 'sweep-gnuplot.png'\n"
            "set key outside right top\n"
            "kappa_1 = %.17g\n"
            "set arrow 1 from kappa_1, graph 0 to kappa_1, graph 1 nohead dt 3 lc rgb '#555555'\n"
            "m = %d\narray ns[%d] = [",
            k1, s->n_sizes, s->n_sizes > 0 ? s->n_sizes : 1);
    for (int q = 0; q < s->n_sizes; q++) fprintf(out, "%s%d", q ? ", " : "", s->sizes[q]);
    fprintf(out, "%s]\n", s->n_sizes > 0 ? "" : "0");
    for (int q = 0; q < s->n_sizes; q++) fprintf(out, "set linetype %d lc rgb '%s'\n", q + 1, ab_svg_colour(q));
    fputs("set multiplot layout 2,1\n"
          "set xlabel 'kappa'\nset ylabel 'r (polar order)'\n"
          "plot for [q=1:m] 'sweep.csv' skip 1 using 5:($4 == ns[q] ? $6 : NaN):7 with yerrorlines pt 7 ps 0.6 lc q "
          "title sprintf('n = %d', ns[q])\n"
          "set ylabel 'Binder cumulant'\n"
          "plot for [q=1:m] 'sweep.csv' skip 1 using 5:($4 == ns[q] ? $12 : NaN):13 with yerrorlines pt 7 ps 0.6 lc q "
          "title sprintf('n = %d', ns[q])\n"
          "unset multiplot\n",
          out);
    return ab_file_commit(f, err);
}

ab_status ab_write_sim(const char *dir, const ab_spec *spec, const ab_sim_result *res, int count, const ab_kappa_c_row *kc,
                       int n_kc, ab_error *err)
{
    ab_status st = ab_mkdir_p(dir, err);
    if (!st && count == 1) {
        st = write_histograms(dir, &res[0], err);
        if (!st && res[0].n_series > 0) st = write_series(dir, &res[0], err);
    }
    if (!st && count > 1) {
        char path[AB_PATH_MAX + 64];
        st = write_sweep_csv(dir, spec, res, count, err);
        if (!st) st = ab_path_join(path, sizeof path, dir, "kappa_c_n.csv", err);
        if (!st && n_kc > 0) st = ab_write_kappa_c_csv(path, spec, kc, n_kc, err);
        if (!st) st = write_sweep_svg(dir, spec, res, count, err);
    }
    if (!st) st = write_summary(dir, spec, res, count, kc, n_kc, err);
    return st;
}

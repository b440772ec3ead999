/* `attnbif plot`: the finite-n r of `simulate` sweeps (with error bars) drawn over the
 * mean-field branches of a `run`, read back from their result directories, when both are
 * for the same model, d and beta (docs/output-run.md, "overlay.svg"). */
#include "io/plot.h"

#include "attnbif/io.h"
#include "attnbif/spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_CHARS 4096
/* summary.json is read whole up to this size (a run's is ~10 kB per special point). */
#define SUMMARY_MAX_BYTES (16L << 20)
/* beta of a run and of a sweep agree to this relative tolerance (both are written with 17
 * digits from the same spec value, so they agree exactly unless they are different). */
#define BETA_RTOL 1e-12
#define PANEL_LEFT 80.0
#define PANEL_TOP 50.0
#define PANEL_W 560.0
#define PANEL_H 380.0

void ab_overlay_free(ab_overlay *o)
{
    free(o->points);
    free(o->sim);
    memset(o, 0, sizeof *o);
}

/* Split line (modified) at commas into at most max fields; returns the count. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

static int number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*v);
}

static char *slurp(const char *path, ab_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) { ab_error_set(err, AB_EINVAL, "%s: cannot open: not a result directory of `attnbif run`?", path); return NULL; }
    char *buf = malloc((size_t)SUMMARY_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, (size_t)SUMMARY_MAX_BYTES, f) : 0;
    fclose(f);
    if (!buf) { ab_error_set(err, AB_ENOMEM, "out of memory"); return NULL; }
    buf[n] = '\0';
    return buf;
}

/* The value after the first "key": in text (a string's contents or a number's text). */
static int json_field(const char *text, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(text, pat);
    if (!p) return 0;
    p += strlen(pat);
    size_t n = *p == '"' ? strcspn(++p, "\"") : strcspn(p, ",\n}");
    if (n >= cap) return 0;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

static int grow(void **arr, int *cap, int n, size_t size)
{
    if (n < *cap) return 0;
    int c = *cap ? 2 * *cap : 64;
    void *p = realloc(*arr, size * (size_t)c);
    if (!p) return -1;
    *arr = p;
    *cap = c;
    return 0;
}

ab_status ab_overlay_read_run(ab_overlay *o, const char *dir, ab_error *err)
{
    memset(o, 0, sizeof *o);
    char path[AB_PATH_MAX + 64], val[64];
    snprintf(o->run_dir, sizeof o->run_dir, "%s", dir);
    ab_status st = ab_path_join(path, sizeof path, dir, "summary.json", err);
    if (st) return st;
    char *text = slurp(path, err);
    if (!text) return err->code;
    int ok = json_field(text, "command", val, sizeof val) && strcmp(val, "run") == 0;
    if (!ok) st = ab_error_set(err, AB_EINVAL, "%s: not the summary of `attnbif run` (\"command\": \"run\")", path);
    else if (!json_field(text, "parameter", val, sizeof val) || strcmp(val, "kappa") != 0)
        st = ab_error_set(err, AB_EINVAL, "%s: parameter: the run continues in %s; sweeps are in kappa, so only a run in kappa "
                          "can be overlaid", path, val);
    else if (!json_field(text, "model", o->model, sizeof o->model) || !json_field(text, "d", val, sizeof val) ||
             (o->d = atoi(val)) < 2 || !json_field(text, "beta", val, sizeof val) || !number(val, &o->beta))
        st = ab_error_set(err, AB_EINVAL, "%s: spec: model, d or beta missing or malformed", path);
    free(text);
    if (st) return st;
    if ((st = ab_path_join(path, sizeof path, dir, "branches.csv", err))) return st;
    FILE *f = fopen(path, "r");
    if (!f) return ab_error_set(err, AB_EINVAL, "%s: cannot open", path);
    char line[LINE_MAX_CHARS], *fld[16];
    int lineno = 0;
    while (!st && fgets(line, sizeof line, f)) {
        lineno++;
        const int n = split(line, fld, 16);
        if (lineno == 1) {
            if (n < 10 || strcmp(fld[0], "branch") || strcmp(fld[2], "kappa") || strcmp(fld[4], "r") || strcmp(fld[8], "stable"))
                st = ab_error_set(err, AB_EINVAL, "%s:1: header: not the columns of branches.csv (docs/output-run.md)", path);
            continue;
        }
        double b, k, r, s;
        if (n < 10 || !number(fld[0], &b) || !number(fld[2], &k) || !number(fld[4], &r) || !number(fld[8], &s)) {
            st = ab_error_set(err, AB_EINVAL, "%s:%d: branch, kappa, r or stable missing or not a number", path, lineno);
            break;
        }
        if (grow((void **)&o->points, &o->cap_points, o->n_points, sizeof *o->points)) {
            st = ab_error_set(err, AB_ENOMEM, "out of memory");
            break;
        }
        ab_overlay_point *q = &o->points[o->n_points++];
        q->branch = (int)b, q->kappa = k, q->r = r, q->stable = s != 0.0, q->fold = strcmp(fld[9], "LP") == 0;
    }
    fclose(f);
    if (!st && o->n_points == 0) st = ab_error_set(err, AB_EINVAL, "%s: no points", path);
    if (st) ab_overlay_free(o);
    return st;
}

ab_status ab_overlay_add_sweep(ab_overlay *o, const char *dir, ab_error *err)
{
    char path[AB_PATH_MAX + 64];
    ab_status st = ab_path_join(path, sizeof path, dir, "sweep.csv", err);
    if (st) return st;
    FILE *f = fopen(path, "r");
    if (!f) return ab_error_set(err, AB_EINVAL, "%s: cannot open: not a result directory of an `attnbif simulate` sweep?", path);
    char line[LINE_MAX_CHARS], *fld[24];
    int lineno = 0, added = 0;
    while (!st && fgets(line, sizeof line, f)) {
        lineno++;
        const int n = split(line, fld, 24);
        if (lineno == 1) {
            if (n < 7 || strcmp(fld[0], "model") || strcmp(fld[4], "kappa") || strcmp(fld[5], "r") || strcmp(fld[6], "r_err"))
                st = ab_error_set(err, AB_EINVAL, "%s:1: header: not the columns of sweep.csv (docs/simulation.md)", path);
            continue;
        }
        double d, beta, nn, k, r, e;
        if (n < 7 || !number(fld[1], &d) || !number(fld[2], &beta) || !number(fld[3], &nn) || !number(fld[4], &k)) {
            st = ab_error_set(err, AB_EINVAL, "%s:%d: d, beta, n or kappa missing or not a number", path, lineno);
            break;
        }
        /* the same model, d and beta as the run, or the picture would compare different things */
        if (strcmp(fld[0], o->model) || (int)d != o->d || fabs(beta - o->beta) > BETA_RTOL * fmax(1.0, fabs(o->beta))) {
            st = ab_error_set(err, AB_EINVAL, "%s:%d: model, d, beta = %s, %d, %.17g, but the run %s has %s, %d, %.17g: not the "
                              "same model", path, lineno, fld[0], (int)d, beta, o->run_dir, o->model, o->d, o->beta);
            break;
        }
        if (!number(fld[5], &r)) continue; /* r not estimated there (summary.json says why) */
        if (!number(fld[6], &e)) e = 0.0;
        if (grow((void **)&o->sim, &o->cap_sim, o->n_sim, sizeof *o->sim)) {
            st = ab_error_set(err, AB_ENOMEM, "out of memory");
            break;
        }
        ab_overlay_sim *q = &o->sim[o->n_sim++];
        q->n = (int)nn, q->kappa = k, q->r = r, q->r_err = e;
        added++;
    }
    fclose(f);
    if (!st && added == 0) st = ab_error_set(err, AB_EINVAL, "%s: no rows with r", path);
    return st;
}

static int cmp_int(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

/* The distinct particle numbers of the sweeps, ascending (at most cap). */
static int sizes(const ab_overlay *o, int *ns, int cap)
{
    int m = 0;
    for (int i = 0; i < o->n_sim; i++) {
        int seen = 0;
        for (int j = 0; j < m; j++) seen |= ns[j] == o->sim[i].n;
        if (!seen && m < cap) ns[m++] = o->sim[i].n;
    }
    qsort(ns, (size_t)m, sizeof *ns, cmp_int);
    return m;
}

/* The figure's data as read (overlay_meanfield.csv, overlay_finite_n.csv) and overlay.gp,
 * which redraws it from them (docs/output-run.md, "overlay.svg"). */
static ab_status write_gnuplot(const char *dir, const ab_overlay *o, const int *ns, int m, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "overlay_meanfield.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    int nb = 0;
    fputs("branch,kappa,r,stable\n", out);
    for (int i = 0; i < o->n_points; i++) {
        const ab_overlay_point *q = &o->points[i];
        fprintf(out, "%d,%.17g,%.17g,%d\n", q->branch, q->kappa, q->r, q->stable);
        nb = q->branch > nb ? q->branch : nb;
    }
    if ((st = ab_file_commit(f, err))) return st;
    if ((st = ab_file_open_in(dir, "overlay_finite_n.csv", &f, err))) return st;
    out = ab_file_stream(f);
    fputs("n,kappa,r,r_err\n", out);
    for (int i = 0; i < o->n_sim; i++)
        fprintf(out, "%d,%.17g,%.17g,%.17g\n", o->sim[i].n, o->sim[i].kappa, o->sim[i].r, o->sim[i].r_err);
    if ((st = ab_file_commit(f, err))) return st;
    if ((st = ab_file_open_in(dir, "overlay.gp", &f, err))) return st;
    out = ab_file_stream(f);
    fputs("# Redraw overlay.svg from overlay_meanfield.csv (branch, kappa, r, stable: the run's branches.csv)\n"
          "# and overlay_finite_n.csv (n, kappa, r, r_err: the sweeps' rows): gnuplot overlay.gp writes\n"
          "# overlay-gnuplot.png (overlay.png beside it is rsvg-convert's rendering of overlay.svg).\n"
          "set datafile separator ','\n"
          "set terminal pngcairo size 900,560 font 'sans,10'\n"
          "set output 'overlay-gnuplot.png'\n"
          "set key outside right top\n"
          "set xlabel 'kappa'\nset ylabel 'r (polar order)'\n",
          out);
    fprintf(out, "set title '");
    for (const char *c = o->model; *c; c++)
        if (*c != '\'' && *c != '\\') fputc(*c, out);
    fprintf(out, ", d = %d, beta = %g: finite n (simulate) and mean field (run)'\n", o->d, o->beta);
    fprintf(out, "nb = %d\nm = %d\narray ns[%d] = [", nb, m, m > 0 ? m : 1);
    for (int s = 0; s < m; s++) fprintf(out, "%s%d", s ? ", " : "", ns[s]);
    fprintf(out, "%s]\n", m > 0 ? "" : "0");
    for (int s = 0; s < m; s++) fprintf(out, "set linetype %d lc rgb '%s'\n", s + 1, ab_svg_colour(s));
    fputs("plot for [b=1:nb] 'overlay_meanfield.csv' skip 1 using 2:($1 == b ? $3 : NaN) with lines dt 2 lw 1.4 "
          "lc rgb '#444444' title (b == 1 ? 'mean field, unstable' : ''), \\\n"
          "     for [b=1:nb] 'overlay_meanfield.csv' skip 1 using 2:(($1 == b && $4 == 1) ? $3 : NaN) with lines lw 2 "
          "lc rgb '#444444' title (b == 1 ? 'mean field, stable' : ''), \\\n"
          "     for [s=1:m] 'overlay_finite_n.csv' skip 1 using 2:($1 == ns[s] ? $3 : NaN):4 with yerrorbars pt 7 ps 0.8 "
          "lc s title sprintf('n = %d (+- 1 s.e.)', ns[s])\n",
          out);
    return ab_file_commit(f, err);
}

ab_status ab_overlay_write(const char *dir, const ab_overlay *o, ab_error *err)
{
    double x0 = INFINITY, x1 = -INFINITY, r1 = 0.0;
    for (int i = 0; i < o->n_points; i++) x0 = fmin(x0, o->points[i].kappa), x1 = fmax(x1, o->points[i].kappa), r1 = fmax(r1, o->points[i].r);
    for (int i = 0; i < o->n_sim; i++)
        x0 = fmin(x0, o->sim[i].kappa), x1 = fmax(x1, o->sim[i].kappa), r1 = fmax(r1, o->sim[i].r + o->sim[i].r_err);
    if (!(x1 > x0)) x0 -= 0.5, x1 += 0.5;
    if (!(r1 > 0.0)) r1 = 1.0;
    const ab_svg_panel p = {x0, x1, 0.0, fmin(1.0, r1 * 1.05), PANEL_LEFT, PANEL_TOP, PANEL_W, PANEL_H};
    int ns[16];
    const int m = sizes(o, ns, 16);
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "overlay.svg", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    ab_svg_begin(out, PANEL_LEFT + PANEL_W + 220, PANEL_TOP + PANEL_H + 70);
    fprintf(out, "<text x='%.0f' y='24' text-anchor='middle' font-size='15'>", PANEL_LEFT + PANEL_W / 2);
    ab_svg_escaped(out, o->model);
    fprintf(out, ", d = %d, beta = %g: finite n (simulate) and mean field (run)</text>\n", o->d, o->beta);
    ab_svg_axes(out, &p, "kappa", "r (polar order)");
    /* mean field: each branch grey, dashed, then solid over its stable stretches */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < o->n_points;) {
            int j = i;
            while (j + 1 < o->n_points && o->points[j + 1].branch == o->points[i].branch) j++;
            int k = i;
            while (k <= j) {
                int e = k;
                if (pass == 1) {
                    while (k <= j && !o->points[k].stable) k++;
                    e = k;
                    while (e + 1 <= j && o->points[e + 1].stable) e++;
                } else {
                    e = j;
                }
                if (k <= j && e > k) {
                    /* smooth through the points as in diagram.svg (docs/output-run.md, "Curves") */
                    const int nb = j - i + 1;
                    double *px = malloc(sizeof(double) * (size_t)nb), *py = malloc(sizeof(double) * (size_t)nb);
                    int *fold = malloc(sizeof(int) * (size_t)nb);
                    ab_plot_curve c = {0, 0, NULL, NULL};
                    int oom = !px || !py || !fold;
                    if (!oom) {
                        for (int q = 0; q < nb; q++) {
                            px[q] = ab_svg_x(&p, o->points[i + q].kappa), py[q] = ab_svg_y(&p, o->points[i + q].r);
                            fold[q] = o->points[i + q].fold;
                        }
                        oom = ab_plot_curve_add(&c, nb, px, py, fold, k - i, e - i) != 0;
                    }
                    free(px), free(py), free(fold);
                    if (oom) { ab_file_abort(f); ab_plot_curve_free(&c); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
                    fprintf(out, "<polyline fill='none' stroke='#444' stroke-width='%s'%s points='", pass ? "2" : "1.4",
                            pass ? "" : " stroke-dasharray='6,4'");
                    for (int q = 0; q < c.n; q++) fprintf(out, "%.2f,%.2f ", c.x[q], c.y[q]);
                    fprintf(out, "'/>\n");
                    ab_plot_curve_free(&c);
                }
                k = e + 1;
            }
            i = j + 1;
        }
    /* finite n: points with error bars (one standard error), a colour per n */
    for (int s = 0; s < m; s++) {
        const char *col = ab_svg_colour(s);
        for (int i = 0; i < o->n_sim; i++) {
            const ab_overlay_sim *q = &o->sim[i];
            if (q->n != ns[s]) continue;
            const double X = ab_svg_x(&p, q->kappa), Y = ab_svg_y(&p, q->r);
            const double Y0 = ab_svg_y(&p, fmax(0.0, q->r - q->r_err)), Y1 = ab_svg_y(&p, q->r + q->r_err);
            fprintf(out, "<path d='M%.2f %.2fL%.2f %.2fM%.2f %.2fL%.2f %.2fM%.2f %.2fL%.2f %.2f' stroke='%s' stroke-width='1.2'/>\n",
                    X, Y0, X, Y1, X - 3, Y0, X + 3, Y0, X - 3, Y1, X + 3, Y1, col);
            fprintf(out, "<circle cx='%.2f' cy='%.2f' r='3.2' fill='%s'/>\n", X, Y, col);
        }
    }
    const double lx = PANEL_LEFT + PANEL_W + 24;
    double y = PANEL_TOP + 10;
    fprintf(out, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='#444' stroke-width='2'/>\n", lx, y, lx + 25, y);
    fprintf(out, "<text x='%.0f' y='%.0f' font-size='11'>mean field, stable</text>\n", lx + 30, y + 4);
    y += 18;
    fprintf(out, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='#444' stroke-width='1.4' stroke-dasharray='6,4'/>\n", lx, y,
            lx + 25, y);
    fprintf(out, "<text x='%.0f' y='%.0f' font-size='11'>mean field, unstable</text>\n", lx + 30, y + 4);
    for (int s = 0; s < m; s++) {
        y += 18;
        fprintf(out, "<circle cx='%.0f' cy='%.0f' r='3.2' fill='%s'/>\n", lx + 12, y, ab_svg_colour(s));
        fprintf(out, "<text x='%.0f' y='%.0f' font-size='11'>n = %d (+- 1 s.e.)</text>\n", lx + 30, y + 4, ns[s]);
    }
    ab_svg_end(out);
    if ((st = ab_file_commit(f, err))) return st;
    if ((st = ab_png_from_svg(dir, "overlay.svg", err))) return st;
    if ((st = write_gnuplot(dir, o, ns, m, err))) return st;
    /* summary.json last, as every command's: it marks the directory as an attnbif result */
    if ((st = ab_file_open_in(dir, "summary.json", &f, err))) return st;
    ab_json *j = ab_json_create(ab_file_stream(f));
    if (!j) { ab_file_abort(f); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    ab_json_begin_object(j);
    ab_json_kv_string(j, "program", "attnbif");
    ab_json_kv_string(j, "version", ab_version());
    ab_json_kv_string(j, "command", "plot");
    ab_json_kv_string(j, "run", o->run_dir);
    ab_json_kv_string(j, "model", o->model);
    ab_json_kv_int(j, "d", o->d);
    ab_json_kv_number(j, "beta", o->beta);
    ab_json_key(j, "n");
    ab_json_begin_array(j);
    for (int s = 0; s < m; s++) ab_json_int(j, ns[s]);
    ab_json_end_array(j);
    ab_json_kv_int(j, "finite_n_points", o->n_sim);
    ab_json_end_object(j);
    ab_json_destroy(j);
    return ab_file_commit(f, err);
}

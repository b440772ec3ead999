/* spectrum.csv and spectrum.svg: the leading eigenvalue of each monitored sector along every
 * branch, one panel per sector, with the zero line and the special points where their
 * eigenvalue crosses it (docs/output-run.md, "spectrum.svg"). */
#include "io/plot.h"

#include "attnbif/io.h"
#include "attnbif/results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PANEL_LEFT 80.0
#define PANEL_TOP 50.0
#define PANEL_W 560.0
#define PANEL_H 170.0
#define PANEL_GAP 60.0
#define LEGEND_GAP 24.0

static double param_of(const ab_diagram *d, double kappa, double beta) { return d->parameter == AB_PARAM_KAPPA ? kappa : beta; }

static int panel_of_sector(const ab_diagram *d, int sector, int n_panels)
{
    for (int k = 0; k < n_panels; k++)
        if (d->spec->sectors[k] == sector) return k;
    return -1;
}

ab_status ab_plot_spectrum_layout(const ab_diagram *d, ab_plot_layout *L, ab_error *err)
{
    memset(L, 0, sizeof *L);
    int np = d->spec->n_sectors;
    if (np > AB_PLOT_SPECTRUM_MAX_PANELS) np = AB_PLOT_SPECTRUM_MAX_PANELS;
    if (np < 1) np = 1;
    L->names = calloc(d->n_branches > 0 ? (size_t)d->n_branches : 1, sizeof *L->names);
    if (!L->names || ab_plot_layout_panels(L, np)) { ab_plot_layout_free(L); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    size_t longest = 10;
    for (int b = 0; b < d->n_branches; b++) {
        char name[64];
        ab_plot_branch_name(d, &d->branches[b], name, sizeof name);
        snprintf(L->names[b], sizeof L->names[b], "%d %s", d->branches[b].id, name);
        if (strlen(L->names[b]) > longest) longest = strlen(L->names[b]);
    }
    double x0 = INFINITY, x1 = -INFINITY;
    for (int b = 0; b < d->n_branches; b++)
        for (int i = 0; i < d->branches[b].n_points; i++) {
            const ab_branch_point *q = &d->branches[b].points[i];
            x0 = fmin(x0, param_of(d, q->kappa, q->beta)), x1 = fmax(x1, param_of(d, q->kappa, q->beta));
        }
    if (!(x1 > x0)) x0 -= 0.5, x1 += 0.5;
    L->legend_left = PANEL_LEFT + PANEL_W + LEGEND_GAP;
    L->width = ceil(L->legend_left + 32 + longest * AB_PLOT_CHAR_EM * AB_PLOT_LABEL_FONT + 12);
    L->height = PANEL_TOP + np * (PANEL_H + PANEL_GAP) + 10;
    for (int k = 0; k < np; k++) {
        double y0 = 0.0, y1 = 0.0; /* the zero line is always in view */
        for (int b = 0; b < d->n_branches; b++)
            for (int i = 0; i < d->branches[b].n_points; i++) {
                const double v = d->branches[b].points[i].lead_re[k];
                if (isfinite(v)) y0 = fmin(y0, v), y1 = fmax(y1, v);
            }
        if (!(y1 > y0)) y0 -= 1.0, y1 += 1.0;
        const double pad = 0.06 * (y1 - y0);
        const ab_svg_panel p = {x0, x1, y0 - pad, y1 + pad, PANEL_LEFT, PANEL_TOP + k * (PANEL_H + PANEL_GAP), PANEL_W, PANEL_H};
        L->panel[k] = p;
    }
    /* curves: straight segments through the finite values (a leading eigenvalue has corners
     * where another one overtakes it, which smoothing would hide) */
    for (int k = 0; k < np; k++)
        for (int b = 0; b < d->n_branches; b++) {
            const ab_branch *br = &d->branches[b];
            ab_plot_run *run = ab_plot_push_run(L);
            if (!run) { ab_plot_layout_free(L); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
            run->branch = b, run->panel = k, run->stable = 1;
            for (int i = 0; i < br->n_points; i++) {
                const ab_branch_point *q = &br->points[i];
                if (!isfinite(q->lead_re[k])) continue;
                const double X = ab_svg_x(&L->panel[k], param_of(d, q->kappa, q->beta)), Y = ab_svg_y(&L->panel[k], q->lead_re[k]);
                if (ab_plot_curve_push(&run->curve, X, Y)) {
                    ab_plot_layout_free(L);
                    return ab_error_set(err, AB_ENOMEM, "out of memory");
                }
            }
        }
    /* special points where their sector's eigenvalue is zero, then their labels */
    for (int s = 0; s < d->n_special; s++) {
        const ab_special_point *sp = &d->special[s];
        const int k = panel_of_sector(d, sp->sector, np);
        if (k < 0 || sp->type == AB_SP_END) continue;
        const double X = ab_svg_x(&L->panel[k], param_of(d, sp->kappa, sp->beta)), Y = ab_svg_y(&L->panel[k], 0.0);
        ab_plot_box m = {X - AB_PLOT_MARKER_HALF, Y - AB_PLOT_MARKER_HALF, X + AB_PLOT_MARKER_HALF, Y + AB_PLOT_MARKER_HALF};
        if (ab_plot_push_marker(L, m, k)) { ab_plot_layout_free(L); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    }
    for (int s = 0; s < d->n_special; s++) {
        const ab_special_point *sp = &d->special[s];
        const int k = panel_of_sector(d, sp->sector, np);
        if (k < 0 || sp->type == AB_SP_END || !sp->profile[0]) continue;
        ab_plot_label lab;
        memset(&lab, 0, sizeof lab);
        lab.kind = AB_PLOT_LABEL_SPECIAL, lab.panel = k, lab.branch = -1, lab.px = AB_PLOT_LABEL_FONT;
        lab.ax = ab_svg_x(&L->panel[k], param_of(d, sp->kappa, sp->beta));
        lab.ay = ab_svg_y(&L->panel[k], 0.0);
        snprintf(lab.text, sizeof lab.text, "%.*s", (int)strcspn(sp->profile, "."), sp->profile);
        ab_plot_place(L, &lab, AB_PLOT_MARKER_HALF);
        if (ab_plot_push_label(L, &lab)) { ab_plot_layout_free(L); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    }
    return AB_OK;
}

static void draw(FILE *out, const ab_diagram *d, const ab_plot_layout *L)
{
    const ab_spec *sp = d->spec;
    const int kappa = d->parameter == AB_PARAM_KAPPA;
    fprintf(out, "<text x='%.0f' y='24' text-anchor='middle' font-size='15'>%s, d = %d, %s = %g: leading eigenvalue of each "
                 "sector</text>\n",
            PANEL_LEFT + PANEL_W / 2, ab_model_kind_name(sp->model.kind), sp->model.d, kappa ? "beta" : "kappa",
            kappa ? sp->model.beta : sp->kappa);
    for (int k = 0; k < L->n_panels; k++) {
        const ab_svg_panel *p = &L->panel[k];
        char ylabel[64];
        snprintf(ylabel, sizeof ylabel, "max Re lambda, sector %d", sp->sectors[k]);
        ab_svg_axes(out, p, kappa ? "kappa" : "beta", ylabel);
        const double Y = ab_svg_y(p, 0.0);
        fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#999' stroke-dasharray='2,3'/>\n", p->left, Y,
                p->left + p->w, Y);
    }
    for (int r = 0; r < L->n_runs; r++) {
        const ab_plot_run *run = &L->runs[r];
        if (run->curve.n < 2) continue;
        fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='1.6' points='", ab_svg_colour(run->branch));
        for (int i = 0; i < run->curve.n; i++) fprintf(out, "%.2f,%.2f ", run->curve.x[i], run->curve.y[i]);
        fprintf(out, "'/>\n");
    }
    for (int s = 0; s < d->n_special; s++) {
        const ab_special_point *q = &d->special[s];
        const int k = panel_of_sector(d, q->sector, L->n_panels);
        if (k < 0 || q->type == AB_SP_END) continue;
        const double X = ab_svg_x(&L->panel[k], kappa ? q->kappa : q->beta), Y = ab_svg_y(&L->panel[k], 0.0);
        if (q->type == AB_SP_FOLD) fprintf(out, "<rect x='%.1f' y='%.1f' width='8' height='8' fill='black'/>\n", X - 4, Y - 4);
        else if (q->type == AB_SP_HOPF)
            fprintf(out, "<polygon points='%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f' fill='purple'/>\n", X, Y - 6, X + 6, Y, X,
                    Y + 6, X - 6, Y);
        else fprintf(out, "<circle cx='%.1f' cy='%.1f' r='4.5' fill='white' stroke='black' stroke-width='1.5'/>\n", X, Y);
    }
    for (int i = 0; i < L->n_labels; i++) {
        const ab_plot_label *lab = &L->labels[i];
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='%.0f'>", lab->tx, lab->ty, lab->px);
        ab_svg_escaped(out, lab->text);
        fputs("</text>\n", out);
    }
    double y = PANEL_TOP + 10;
    for (int b = 0; b < d->n_branches; b++, y += 18) {
        fprintf(out, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='%s' stroke-width='2'/>\n", L->legend_left, y,
                L->legend_left + 25, y, ab_svg_colour(b));
        fprintf(out, "<text x='%.0f' y='%.0f' font-size='11'>", L->legend_left + 30, y + 4);
        ab_svg_escaped(out, L->names[b]);
        fputs("</text>\n", out);
    }
    if (sp->n_sectors > L->n_panels)
        fprintf(out, "<text x='%.0f' y='%.0f' font-size='11'>sectors beyond %d: spectrum.csv</text>\n", L->legend_left, y + 10,
                sp->sectors[L->n_panels - 1]);
}

static ab_status write_csv(const char *dir, const ab_diagram *d, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "spectrum.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    fprintf(out, "branch,point,kappa,beta,sector,lead_re\n");
    /* grouped by sector, then branch: each line of the figure is one block of rows (spectrum.gp) */
    for (int k = 0; k < d->spec->n_sectors; k++)
        for (int b = 0; b < d->n_branches; b++) {
            const ab_branch *br = &d->branches[b];
            for (int i = 0; i < br->n_points; i++) {
                const ab_branch_point *q = &br->points[i];
                if (isfinite(q->lead_re[k]))
                    fprintf(out, "%d,%d,%.17g,%.17g,%d,%.17g\n", br->id, i, q->kappa, q->beta, d->spec->sectors[k], q->lead_re[k]);
            }
        }
    return ab_file_commit(f, err);
}

ab_status ab_plot_spectrum_write(const char *dir, const ab_diagram *d, ab_error *err)
{
    ab_status st = write_csv(dir, d, err);
    if (st) return st;
    ab_plot_layout L;
    if ((st = ab_plot_spectrum_layout(d, &L, err))) return st;
    ab_file *f;
    if ((st = ab_file_open_in(dir, "spectrum.svg", &f, err))) { ab_plot_layout_free(&L); return st; }
    FILE *out = ab_file_stream(f);
    ab_svg_begin(out, L.width, L.height);
    draw(out, d, &L);
    ab_svg_end(out);
    ab_plot_layout_free(&L);
    return ab_file_commit(f, err);
}

/* The two-parameter results of a run: curves.csv and phase_diagram.svg, the curves in the
 * (beta, kappa) plane with the regions they bound named (docs/output-run.md, "Curves");
 * and the barriers of gradient models, barriers.csv and barriers.svg. */
#include "attnbif/barriers.h"
#include "attnbif/curves.h"
#include "attnbif/io.h"
#include "attnbif/model.h"
#include "io/plot.h"
#include "io/svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The phase diagram's grid for classifying regions (cells across x and y), and the kappa
 * range ratio above which kappa is drawn on a log scale. */
#define AB_PHASE_GRID_X 160
#define AB_PHASE_GRID_Y 120
#define AB_PHASE_LOG_RATIO 8.0

ab_status ab_curves_write_csv(const char *dir, const ab_curve_set *set, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "curves.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    fprintf(out, "curve,type,point,kappa,beta,r,S,free_energy,test,tail,label\n");
    for (int c = 0; c < set->n_curves; c++) {
        const ab_curve *cv = &set->curves[c];
        for (int k = 0; k < cv->n_rows; k++) {
            const ab_curve_row *r = &cv->rows[k];
            fprintf(out, "%d,%s,%d,%.17g,%.17g,%.17g,%.17g,", cv->id, ab_curve_type_name(cv->type), k, r->kappa, r->beta,
                    r->r, r->S);
            /* empty, not nan, where a quantity does not apply (SA's free energy, test functions
             * of Maxwell curves) */
            const double opt[3] = {r->free_energy, r->test, r->tail};
            for (int q = 0; q < 3; q++) {
                if (isfinite(opt[q])) fprintf(out, "%.17g", opt[q]);
                fputc(',', out);
            }
            fprintf(out, "%s\n", r->label >= 0 && r->label < set->n_points ? set->points[r->label].label : "");
        }
    }
    return ab_file_commit(f, err);
}

/* kappa on curve c at beta: the largest value where the curve crosses beta (linear between
 * rows; the rows are close), or NaN. */
static double kappa_at(const ab_curve *c, double beta)
{
    double best = NAN;
    for (int k = 1; k < c->n_rows; k++) {
        const ab_curve_row *a = &c->rows[k - 1], *b = &c->rows[k];
        if ((a->beta - beta) * (b->beta - beta) > 0.0 || a->beta == b->beta) continue;
        const double t = (beta - a->beta) / (b->beta - a->beta), kap = a->kappa + t * (b->kappa - a->kappa);
        if (!(kap <= best)) best = kap;
    }
    return best;
}

typedef struct {
    ab_svg_panel p;
    int logy;
} axes;

static double Y(const axes *a, double kappa) { return ab_svg_y(&a->p, a->logy ? log10(kappa) : kappa); }
static double X(const axes *a, double beta) { return ab_svg_x(&a->p, beta); }

/* Region of (beta, kappa): 0 uniform stable only, 1 bistable, 2 clustered (the uniform
 * state unstable); -1 unknown (no curve says). */
static int region(const ab_diagram *d, const ab_curve_set *set, double beta, double kappa)
{
    double k_uniform = NAN, k_fold = NAN;
    for (int c = 0; c < set->n_curves; c++) {
        const ab_curve *cv = &set->curves[c];
        const double k = kappa_at(cv, beta);
        if (!isfinite(k)) continue;
        if ((cv->type == AB_CURVE_PITCHFORK || cv->type == AB_CURVE_TRANSCRITICAL) && cv->l >= 1) {
            if (!(k <= k_uniform)) k_uniform = k;
        } else if (cv->type == AB_CURVE_FOLD && cv->bounds_stable) {
            if (!(k <= k_fold)) k_fold = k;
        }
    }
    if (!isfinite(k_uniform)) {
        /* no branch-point curve on the uniform branch was followed: its loss of stability is
         * known exactly (docs/theory.md) */
        const ab_spec *s = d->spec;
        for (int l = 1; l <= 8; l++) {
            const double k = ab_kappa_l(s->model.kind, s->model.d, beta, l);
            if (!(k <= k_uniform)) k_uniform = k;
        }
    }
    if (kappa < k_uniform) return 2;
    return isfinite(k_fold) && kappa < k_fold ? 1 : 0;
}

static const char *const region_name[3] = {"uniform stable", "bistable (hysteresis)", "clustered (uniform unstable)"};
static const char *const region_fill[3] = {"#e8f1fb", "#fdf0d8", "#f6e0e0"};

static void draw_curve(FILE *out, const axes *a, const ab_curve *c, const char *colour, const char *dash)
{
    int open = 0;
    for (int k = 0; k < c->n_rows; k++) {
        const ab_curve_row *r = &c->rows[k];
        const int ok = isfinite(r->kappa) && isfinite(r->beta) && (!a->logy || r->kappa > 0.0) && r->beta >= a->p.x0 &&
                       r->beta <= a->p.x1;
        if (!ok) {
            if (open) fprintf(out, "'/>\n");
            open = 0;
            continue;
        }
        if (!open) fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='", colour, dash);
        fprintf(out, "%.1f,%.1f ", X(a, r->beta), Y(a, r->kappa));
        open = 1;
    }
    if (open) fprintf(out, "'/>\n");
}

static void log_axis(FILE *out, const axes *a, const char *ylabel)
{
    const ab_svg_panel *p = &a->p;
    /* the x axis as ab_svg_axes draws it, with the y ticks at 1, 2, 5 x 10^k */
    ab_svg_panel q = *p;
    q.y0 = 0.0;
    q.y1 = 1.0;
    ab_svg_axes(out, &q, "beta (inverse temperature)", "");
    fprintf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='white'/>\n", p->left - 46, p->top - 8, 45.5,
            p->h + 16);
    for (int e = (int)floor(p->y0) - 1; e <= (int)ceil(p->y1); e++)
        for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3)) {
            const double v = log10(m * pow(10.0, e));
            if (v < p->y0 - 1e-12 || v > p->y1 + 1e-12) continue;
            const double yy = ab_svg_y(p, v);
            fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>\n", p->left - 5, yy, p->left, yy);
            fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='end' font-size='11'>%.4g</text>\n", p->left - 8, yy + 4,
                    m * pow(10.0, e));
        }
    fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='13' transform='rotate(-90 %.1f %.1f)'>%s</text>\n",
            p->left - 52, p->top + p->h / 2, p->left - 52, p->top + p->h / 2, ylabel);
}

ab_status ab_curves_write_phase_diagram(const char *dir, const ab_diagram *d, const ab_curve_set *set, ab_error *err)
{
    /* the window: the two-parameter window in beta, kappa over what the curves reach */
    const ab_two_parameter_spec *tp = &d->spec->two_parameter;
    double kmin = INFINITY, kmax = -INFINITY;
    for (int c = 0; c < set->n_curves; c++)
        for (int k = 0; k < set->curves[c].n_rows; k++) {
            const double kap = set->curves[c].rows[k].kappa;
            if (isfinite(kap) && kap > 0.0) {
                kmin = fmin(kmin, kap);
                kmax = fmax(kmax, kap);
            }
        }
    if (!isfinite(kmin)) {
        kmin = d->spec->continuation.min;
        kmax = d->spec->continuation.max;
    }
    axes a = {.p = {.x0 = tp->min, .x1 = tp->max, .left = 80, .top = 50, .w = 620, .h = 420}};
    a.logy = kmax / kmin > AB_PHASE_LOG_RATIO;
    if (a.logy) {
        a.p.y0 = log10(kmin) - 0.05 * (log10(kmax) - log10(kmin));
        a.p.y1 = log10(kmax) + 0.05 * (log10(kmax) - log10(kmin));
    } else {
        a.p.y0 = fmax(0.0, kmin - 0.08 * (kmax - kmin));
        a.p.y1 = kmax + 0.08 * (kmax - kmin);
    }
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "phase_diagram.svg", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    const double width = 1040, height = 540;
    ab_svg_begin(out, width, height);
    fprintf(out, "<title>Phase diagram: %s, d = %d</title>\n", ab_model_kind_name(d->spec->model.kind), d->spec->model.d);
    /* regions: runs of grid cells of one region per grid row, and where each region's
     * cells are centred, for its name */
    double cx[3] = {0, 0, 0}, cy[3] = {0, 0, 0};
    int count[3] = {0, 0, 0};
    const double dx = a.p.w / AB_PHASE_GRID_X, dy = a.p.h / AB_PHASE_GRID_Y;
    int *cell = malloc(sizeof(int) * AB_PHASE_GRID_X * AB_PHASE_GRID_Y);
    if (!cell) {
        ab_file_abort(f);
        return ab_error_set(err, AB_ENOMEM, "out of memory");
    }
    for (int j = 0; j < AB_PHASE_GRID_Y; j++) {
        const double yv = a.p.y0 + (j + 0.5) / AB_PHASE_GRID_Y * (a.p.y1 - a.p.y0), kap = a.logy ? pow(10.0, yv) : yv;
        for (int i = 0; i < AB_PHASE_GRID_X; i++) {
            const double beta = a.p.x0 + (i + 0.5) / AB_PHASE_GRID_X * (a.p.x1 - a.p.x0);
            cell[i + j * AB_PHASE_GRID_X] = kap > 0.0 ? region(d, set, beta, kap) : -1;
        }
    }
    for (int j = 0; j < AB_PHASE_GRID_Y; j++) {
        const double ytop = a.p.top + a.p.h - (j + 1) * dy;
        for (int i = 0; i < AB_PHASE_GRID_X;) {
            const int r = cell[i + j * AB_PHASE_GRID_X];
            int e = i;
            while (e < AB_PHASE_GRID_X && cell[e + j * AB_PHASE_GRID_X] == r) e++;
            if (r >= 0) {
                fprintf(out, "<rect x='%.2f' y='%.2f' width='%.2f' height='%.2f' fill='%s'/>\n", a.p.left + i * dx, ytop,
                        (e - i) * dx + 0.3, dy + 0.3, region_fill[r]);
                for (int q = i; q < e; q++) {
                    cx[r] += a.p.left + (q + 0.5) * dx;
                    cy[r] += ytop + 0.5 * dy;
                    count[r]++;
                }
            }
            i = e;
        }
    }
    if (a.logy) log_axis(out, &a, "kappa (noise), log scale");
    else ab_svg_axes(out, &a.p, "beta (inverse temperature)", "kappa (noise)");
    /* region names at the cell of the region nearest its centre */
    for (int r = 0; r < 3; r++) {
        if (count[r] == 0) continue;
        cx[r] /= count[r];
        cy[r] /= count[r];
        double best = INFINITY, bx = cx[r], by = cy[r];
        for (int j = 0; j < AB_PHASE_GRID_Y; j++)
            for (int i = 0; i < AB_PHASE_GRID_X; i++) {
                if (cell[i + j * AB_PHASE_GRID_X] != r) continue;
                const double px = a.p.left + (i + 0.5) * dx, py = a.p.top + a.p.h - (j + 0.5) * dy;
                /* inside: the cells a label's half-width either side belong to r too */
                int inside = 1;
                for (int q = -12; q <= 12 && inside; q++) {
                    const int ii = i + q;
                    if (ii < 0 || ii >= AB_PHASE_GRID_X || cell[ii + j * AB_PHASE_GRID_X] != r) inside = 0;
                }
                if (!inside) continue;
                const double dd = (px - cx[r]) * (px - cx[r]) + (py - cy[r]) * (py - cy[r]);
                if (dd < best) {
                    best = dd;
                    bx = px;
                    by = py;
                }
            }
        if (!isfinite(best)) {
            /* too narrow for its name: the name above it, with a leader line to the cell of
             * the region nearest its centre */
            double near = INFINITY;
            for (int j = 0; j < AB_PHASE_GRID_Y; j++)
                for (int i = 0; i < AB_PHASE_GRID_X; i++) {
                    if (cell[i + j * AB_PHASE_GRID_X] != r) continue;
                    const double px = a.p.left + (i + 0.5) * dx, py = a.p.top + a.p.h - (j + 0.5) * dy;
                    const double dd = (px - cx[r]) * (px - cx[r]) + (py - cy[r]) * (py - cy[r]);
                    if (dd < near) {
                        near = dd;
                        bx = px;
                        by = py;
                    }
                }
            const double ty = fmax(a.p.top + 16, by - 60), tx = fmax(a.p.left + 90, bx - 80);
            fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#555'/>\n", tx, ty + 4, bx, by);
            fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='13' fill='#333'>%s</text>\n", tx, ty,
                    region_name[r]);
            continue;
        }
        fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='13' fill='#333'>%s</text>\n", bx, by + 4,
                region_name[r]);
    }
    free(cell);
    /* the curves, clipped to the panel */
    fprintf(out, "<clipPath id='panel'><rect x='%.1f' y='%.1f' width='%.1f' height='%.1f'/></clipPath>\n<g clip-path='url(#panel)'>\n",
            a.p.left, a.p.top, a.p.w, a.p.h);
    static const char *const colour[] = {"#d62728", "#1f77b4", "#1f77b4", "#2ca02c"};
    static const char *const dash[] = {"", "", " stroke-dasharray='8 4'", " stroke-dasharray='2 4'"};
    for (int c = 0; c < set->n_curves; c++)
        draw_curve(out, &a, &set->curves[c], colour[set->curves[c].type], dash[set->curves[c].type]);
    /* each curve named on itself, at the visible row nearest its middle */
    static const char *const short_name[] = {"fold", "pitchfork", "transcritical", "Maxwell"};
    for (int c = 0; c < set->n_curves; c++) {
        const ab_curve *cv = &set->curves[c];
        int best = -1;
        for (int k = 0; k < cv->n_rows; k++) {
            const ab_curve_row *r = &cv->rows[k];
            const double yy = r->kappa > 0.0 ? Y(&a, r->kappa) : -1.0;
            if (r->beta < a.p.x0 || r->beta > a.p.x1 - 0.2 * (a.p.x1 - a.p.x0) || yy < a.p.top + 15 || yy > a.p.top + a.p.h - 5)
                continue;
            /* curves named at different fractions of their length, so names do not pile up */
            const int aim = (int)((double)cv->n_rows * (0.25 + 0.5 * (c + 1) / (set->n_curves + 1)));
            if (best < 0 || abs(k - aim) < abs(best - aim)) best = k;
        }
        if (best < 0) continue;
        char name[48];
        if (cv->l >= 1) snprintf(name, sizeof name, "%s (l = %d)", short_name[cv->type], cv->l);
        else snprintf(name, sizeof name, "%s", short_name[cv->type]);
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='11' fill='%s' stroke='white' stroke-width='3' paint-order='stroke'>%s</text>\n", X(&a, cv->rows[best].beta) + 4,
                Y(&a, cv->rows[best].kappa) - 5, colour[cv->type], name);
    }
    for (int i = 0; i < set->n_points; i++) {
        const ab_curve_point *p = &set->points[i];
        if (!(p->kappa > 0.0) || p->beta < a.p.x0 || p->beta > a.p.x1) continue;
        fprintf(out, "<circle cx='%.1f' cy='%.1f' r='5' fill='black'/>\n", X(&a, p->beta), Y(&a, p->kappa));
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='12'>%s</text>\n", X(&a, p->beta) + 7, Y(&a, p->kappa) - 7, p->label);
    }
    fprintf(out, "</g>\n");
    /* legend: what each line is, beside the panel */
    static const char *const what[] = {"fold (saddle-node) curve", "pitchfork curve", "transcritical curve",
                                       "Maxwell curve (equal free energy)"};
    double ly = a.p.top + 10;
    int seen[4] = {0, 0, 0, 0};
    for (int c = 0; c < set->n_curves; c++) seen[set->curves[c].type] = 1;
    for (int t = 0; t < 4; t++) {
        if (!seen[t]) continue;
        fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'%s/>\n", a.p.left + a.p.w + 20,
                ly, a.p.left + a.p.w + 50, ly, colour[t], dash[t]);
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='12'>%s</text>\n", a.p.left + a.p.w + 56, ly + 4, what[t]);
        ly += 20;
    }
    for (int i = 0; i < set->n_points; i++) {
        const ab_curve_point *p = &set->points[i];
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='12'>%s: %s</text>\n", a.p.left + a.p.w + 20, ly + 4, p->label,
                ab_curve_point_type_name(p->type));
        ly += 18;
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='11' fill='#555'>beta = %.8g, kappa = %.8g</text>\n",
                a.p.left + a.p.w + 30, ly + 4, p->beta, p->kappa);
        ly += 20;
    }
    fprintf(out, "<text x='%.1f' y='30' font-size='15'>Phase diagram: %s, d = %d</text>\n", a.p.left,
            ab_model_kind_name(d->spec->model.kind), d->spec->model.d);
    ab_svg_end(out);
    return ab_file_commit(f, err);
}

/* ---- barriers (docs/metastability.md) ---------------------------------------------------- */

ab_status ab_barriers_write(const char *dir, const ab_diagram *d, const ab_barrier_set *set, ab_error *err)
{
    ab_file *f;
    ab_status st = ab_file_open_in(dir, "barriers.csv", &f, err);
    if (st) return st;
    FILE *out = ab_file_stream(f);
    fprintf(out, "kappa,beta,saddle_branch,saddle_point,morse_index,stable_branch,e_saddle,e_stable,barrier,"
                 "barrier_over_kappa,mu_unstable,mu_stable,kramers_prefactor\n");
    for (int i = 0; i < set->n; i++) {
        const ab_barrier *r = &set->rows[i];
        fprintf(out, "%.17g,%.17g,%d,%d,%ld,%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,", r->kappa, r->beta, r->saddle_branch,
                r->saddle_point, r->morse_index, r->stable_branch, r->e_saddle, r->e_stable, r->barrier,
                r->barrier / r->kappa, r->mu_unstable, r->mu_stable);
        if (isfinite(r->prefactor)) fprintf(out, "%.17g", r->prefactor);
        fputc('\n', out);
    }
    if ((st = ab_file_commit(f, err))) return st;
    /* the figure: barrier against kappa per (saddle branch, stable branch) pair */
    double k0 = INFINITY, k1 = -INFINITY, b1 = 0.0;
    for (int i = 0; i < set->n; i++) {
        k0 = fmin(k0, set->rows[i].kappa);
        k1 = fmax(k1, set->rows[i].kappa);
        b1 = fmax(b1, set->rows[i].barrier);
    }
    if (!(k1 > k0)) {
        k0 = 0.0;
        k1 = 1.0;
    }
    if (!(b1 > 0.0)) b1 = 1.0;
    ab_svg_panel p = {.x0 = k0, .x1 = k1, .y0 = 0.0, .y1 = 1.05 * b1, .left = 80, .top = 50, .w = 600, .h = 400};
    if ((st = ab_file_open_in(dir, "barriers.svg", &f, err))) return st;
    out = ab_file_stream(f);
    ab_svg_begin(out, 1120, 520);
    fprintf(out, "<text x='80' y='30' font-size='15'>Free-energy barriers: saddle minus stable state</text>\n");
    ab_svg_axes(out, &p, "kappa (noise)", "barrier Delta E");
    int n_pairs = 0;
    double ly = p.top + 10;
    for (int i = 0; i < set->n; i++) {
        const ab_barrier *r = &set->rows[i];
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = set->rows[j].saddle_branch == r->saddle_branch && set->rows[j].stable_branch == r->stable_branch;
        if (seen) continue;
        const char *colour = ab_svg_colour(n_pairs++);
        fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='", colour,
                r->morse_index == 1 ? "" : " stroke-dasharray='6 4'");
        for (int j = i; j < set->n; j++) {
            const ab_barrier *q = &set->rows[j];
            if (q->saddle_branch == r->saddle_branch && q->stable_branch == r->stable_branch)
                fprintf(out, "%.1f,%.1f ", ab_svg_x(&p, q->kappa), ab_svg_y(&p, q->barrier));
        }
        fprintf(out, "'/>\n");
        fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'%s/>\n", p.left + p.w + 20,
                ly, p.left + p.w + 50, ly, colour, r->morse_index == 1 ? "" : " stroke-dasharray='6 4'");
        char sname[64] = "?", tname[64] = "?";
        for (int b = 0; b < d->n_branches; b++) {
            if (d->branches[b].id == r->saddle_branch) ab_plot_branch_name(d, &d->branches[b], sname, sizeof sname);
            if (d->branches[b].id == r->stable_branch) ab_plot_branch_name(d, &d->branches[b], tname, sizeof tname);
        }
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='12'>", p.left + p.w + 56, ly + 4);
        ab_svg_escaped(out, sname);
        fprintf(out, " (index %ld, branch %d) over stable ", r->morse_index, r->saddle_branch);
        ab_svg_escaped(out, tname);
        fprintf(out, " (branch %d)</text>\n", r->stable_branch);
        ly += 20;
    }
    ab_svg_end(out);
    return ab_file_commit(f, err);
}

/* diagram.svg: the layout of the bifurcation diagram (panels, smooth curves, markers, labels
 * placed from their computed boxes so that none overlap, the Morse index along unstable
 * branches, a legend of branch names) and its SVG (docs/output-run.md, "diagram.svg"). */
#include "io/plot.h"

#include "attnbif/io.h"
#include "attnbif/results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Canvas (px): the panels' left margin, width and height, the gap between them. */
#define PANEL_LEFT 80.0
#define PANEL_TOP 50.0
#define PANEL_W 560.0
#define PANEL_H 340.0
#define PANEL_GAP 70.0
#define LEGEND_GAP 24.0
/* An unstable stretch shorter than this (px) gets no Morse index: no room for it. */
#define INDEX_MIN_RUN 18.0
/* A point of a branch this close (px) to an earlier branch's curve is drawn over it (r = 0
 * for the uniform, prolate and oblate branches): no index there, it would be ambiguous. */
#define COINCIDE_PX 2.0
/* Placement costs: a candidate outside the panel, on another label, on a marker, across a
 * drawn curve (per piece), per ring outwards, per direction in order of preference. */
#define COST_OUTSIDE 1e7
#define COST_LABEL 1e5
#define COST_MARKER AB_PLOT_COST_MARKER
#define COST_CURVE 40.0
#define COST_AMBIGUOUS 2000.0
#define COST_RING 12.0
#define COST_DIRECTION 1.0
/* A Morse index whose best place costs this much or more is left out (it would sit on a
 * label or a marker). */
#define INDEX_MAX_COST COST_MARKER

double ab_plot_box_overlap(const ab_plot_box *a, const ab_plot_box *b)
{
    double w = fmin(a->x1, b->x1) - fmax(a->x0, b->x0), h = fmin(a->y1, b->y1) - fmax(a->y0, b->y0);
    return w > 0.0 && h > 0.0 ? w * h : 0.0;
}

ab_plot_box ab_plot_text_box(double x, double y, size_t n, double px)
{
    ab_plot_box b = {x, y - AB_PLOT_ASCENT_EM * px, x + (double)n * AB_PLOT_CHAR_EM * px, y + AB_PLOT_DESCENT_EM * px};
    return b;
}

static double param_of(const ab_diagram *d, const ab_branch_point *q) { return d->parameter == AB_PARAM_KAPPA ? q->kappa : q->beta; }
static double obs_of(const ab_branch_point *q, int which) { return which ? q->S : q->r; }

/* Whether segment (x0, y0)-(x1, y1) meets box b (Liang-Barsky clipping). */
static int segment_meets(const ab_plot_box *b, double x0, double y0, double x1, double y1)
{
    double t0 = 0.0, t1 = 1.0, dx = x1 - x0, dy = y1 - y0;
    const double p[4] = {-dx, dx, -dy, dy}, q[4] = {x0 - b->x0, b->x1 - x0, y0 - b->y0, b->y1 - y0};
    for (int k = 0; k < 4; k++) {
        if (p[k] == 0.0) {
            if (q[k] < 0.0) return 0;
        } else {
            double r = q[k] / p[k];
            if (p[k] < 0.0) { if (r > t1) return 0; if (r > t0) t0 = r; }
            else { if (r < t0) return 0; if (r < t1) t1 = r; }
        }
    }
    return 1;
}

int ab_plot_push_label(ab_plot_layout *L, const ab_plot_label *lab)
{
    if (L->n_labels == L->cap_labels) {
        int cap = L->cap_labels ? 2 * L->cap_labels : 32;
        ab_plot_label *p = realloc(L->labels, sizeof *p * (size_t)cap);
        if (!p) return -1;
        L->labels = p;
        L->cap_labels = cap;
    }
    L->labels[L->n_labels++] = *lab;
    return 0;
}

int ab_plot_push_marker(ab_plot_layout *L, ab_plot_box b, int panel)
{
    if (L->n_markers == L->cap_markers) {
        int cap = L->cap_markers ? 2 * L->cap_markers : 32;
        ab_plot_box *p = realloc(L->markers, sizeof *p * (size_t)cap);
        if (!p) return -1;
        L->markers = p;
        int *q = realloc(L->marker_panel, sizeof *q * (size_t)cap);
        if (!q) return -1;
        L->marker_panel = q;
        L->cap_markers = cap;
    }
    L->markers[L->n_markers] = b;
    L->marker_panel[L->n_markers++] = panel;
    return 0;
}

ab_plot_run *ab_plot_push_run(ab_plot_layout *L)
{
    if (L->n_runs == L->cap_runs) {
        int cap = L->cap_runs ? 2 * L->cap_runs : 16;
        ab_plot_run *p = realloc(L->runs, sizeof *p * (size_t)cap);
        if (!p) return NULL;
        L->runs = p;
        L->cap_runs = cap;
    }
    ab_plot_run *r = &L->runs[L->n_runs++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Distance (px) from (x, y) to box b (0 inside). */
static double box_distance(const ab_plot_box *b, double x, double y)
{
    return hypot(fmax(0.0, fmax(b->x0 - x, x - b->x1)), fmax(0.0, fmax(b->y0 - y, y - b->y1)));
}

/* What covering box b costs in panel k (see COST_*), for a label of the point (ax, ay): a
 * box nearer another marker than its own would be read as that marker's label. */
static double box_cost(const ab_plot_layout *L, int k, const ab_plot_box *b, double ax, double ay)
{
    const ab_svg_panel *p = &L->panel[k];
    double c = 0.0;
    if (b->x0 < p->left + 1 || b->x1 > p->left + p->w - 1 || b->y0 < p->top + 1 || b->y1 > p->top + p->h - 1) c += COST_OUTSIDE;
    for (int i = 0; i < L->n_labels; i++) {
        double a = L->labels[i].panel == k ? ab_plot_box_overlap(b, &L->labels[i].box) : 0.0;
        if (a > 0.0) c += COST_LABEL + a;
    }
    const double own = box_distance(b, ax, ay);
    for (int i = 0; i < L->n_markers; i++) {
        if (L->marker_panel[i] != k) continue;
        if (ab_plot_box_overlap(b, &L->markers[i]) > 0.0) c += COST_MARKER;
        const double mx = 0.5 * (L->markers[i].x0 + L->markers[i].x1), my = 0.5 * (L->markers[i].y0 + L->markers[i].y1);
        if (hypot(mx - ax, my - ay) > 0.5 && box_distance(b, mx, my) < own) c += COST_AMBIGUOUS;
    }
    for (int r = 0; r < L->n_runs; r++) {
        const ab_plot_run *run = &L->runs[r];
        if (run->panel != k) continue;
        for (int i = 0; i + 1 < run->curve.n; i++)
            if (segment_meets(b, run->curve.x[i], run->curve.y[i], run->curve.x[i + 1], run->curve.y[i + 1])) c += COST_CURVE;
    }
    return c;
}

double ab_plot_place(const ab_plot_layout *L, ab_plot_label *lab, double half)
{
    static const int dirs[8][2] = {{1, -1}, {-1, -1}, {1, 1}, {-1, 1}, {1, 0}, {-1, 0}, {0, -1}, {0, 1}};
    const size_t n = strlen(lab->text);
    const ab_plot_box shape = ab_plot_text_box(0.0, 0.0, n, lab->px);
    const double w = shape.x1 - shape.x0, h = shape.y1 - shape.y0;
    double best = INFINITY;
    for (int ring = 0; ring < AB_PLOT_LABEL_RINGS; ring++) {
        const double g = half + AB_PLOT_LABEL_GAP + ring * AB_PLOT_LABEL_RING_STEP;
        for (int k = 0; k < 8; k++) {
            const int dx = dirs[k][0], dy = dirs[k][1];
            ab_plot_box b;
            b.x0 = dx > 0 ? lab->ax + g : dx < 0 ? lab->ax - g - w : lab->ax - w / 2;
            b.y0 = dy > 0 ? lab->ay + g : dy < 0 ? lab->ay - g - h : lab->ay - h / 2;
            b.x1 = b.x0 + w, b.y1 = b.y0 + h;
            double c = box_cost(L, lab->panel, &b, lab->ax, lab->ay) + ring * COST_RING + k * COST_DIRECTION;
            if (c < best) {
                best = c;
                lab->box = b;
                lab->tx = b.x0;
                lab->ty = b.y0 - shape.y0;
            }
        }
    }
    return best;
}

void ab_plot_layout_free(ab_plot_layout *L)
{
    for (int r = 0; r < L->n_runs; r++) ab_plot_curve_free(&L->runs[r].curve);
    free(L->runs);
    free(L->labels);
    free(L->markers);
    free(L->marker_panel);
    free(L->names);
    free(L->panel);
    memset(L, 0, sizeof *L);
}

int ab_plot_layout_panels(ab_plot_layout *L, int n)
{
    L->panel = calloc(n > 0 ? (size_t)n : 1, sizeof *L->panel);
    L->n_panels = L->panel ? n : 0;
    return L->panel ? 0 : -1;
}

/* The drawn curves of panel k: per branch, runs of equal stability (a segment takes the
 * stability of its end point), each densified with the whole branch's tangents. */
static ab_status layout_curves(const ab_diagram *d, ab_plot_layout *L, int k, int which, ab_error *err)
{
    const ab_svg_panel *p = &L->panel[k];
    for (int b = 0; b < d->n_branches; b++) {
        const ab_branch *br = &d->branches[b];
        const int n = br->n_points;
        if (n < 2) continue;
        double *px = malloc(sizeof(double) * (size_t)n), *py = malloc(sizeof(double) * (size_t)n);
        int *fold = malloc(sizeof(int) * (size_t)n);
        if (!px || !py || !fold) { free(px), free(py), free(fold); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
        for (int i = 0; i < n; i++) {
            px[i] = ab_svg_x(p, param_of(d, &br->points[i]));
            py[i] = ab_svg_y(p, obs_of(&br->points[i], which));
            fold[i] = br->points[i].label == AB_SP_FOLD;
        }
        int i = 0, bad = 0;
        while (i + 1 < n && !bad) {
            const int stable = br->points[i + 1].n_unstable == 0;
            int j = i + 1;
            while (j + 1 < n && (br->points[j + 1].n_unstable == 0) == stable) j++;
            ab_plot_run *run = ab_plot_push_run(L);
            if (!run) { bad = 1; break; }
            run->branch = b, run->panel = k, run->stable = stable;
            bad = ab_plot_curve_add(&run->curve, n, px, py, fold, i, j) != 0;
            i = j;
        }
        free(px), free(py), free(fold);
        if (bad) return ab_error_set(err, AB_ENOMEM, "out of memory");
    }
    return AB_OK;
}

/* Whether (x, y) lies on the drawn curve of a branch before b in panel k. */
static int under_earlier(const ab_plot_layout *L, int k, int b, double x, double y)
{
    for (int r = 0; r < L->n_runs; r++) {
        const ab_plot_run *run = &L->runs[r];
        if (run->panel != k || run->branch >= b) continue;
        for (int i = 0; i + 1 < run->curve.n; i++) {
            double ax = run->curve.x[i], ay = run->curve.y[i], bx = run->curve.x[i + 1], by = run->curve.y[i + 1];
            double vx = bx - ax, vy = by - ay, l2 = vx * vx + vy * vy;
            double t = l2 > 0.0 ? ((x - ax) * vx + (y - ay) * vy) / l2 : 0.0;
            t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
            if (hypot(ax + t * vx - x, ay + t * vy - y) <= COINCIDE_PX) return 1;
        }
    }
    return 0;
}

/* The Morse index (unstable eigenvalues with multiplicity) of each unstable stretch of each
 * branch in panel k, at the stretch's middle where its curve is its own. */
static ab_status layout_indices(const ab_diagram *d, ab_plot_layout *L, int k, int which, ab_error *err)
{
    const ab_svg_panel *p = &L->panel[k];
    for (int b = 0; b < d->n_branches; b++) {
        const ab_branch *br = &d->branches[b];
        int i = 0;
        while (i + 1 < br->n_points) {
            const long idx = br->points[i + 1].n_unstable;
            int j = i + 1;
            while (j + 1 < br->n_points && br->points[j + 1].n_unstable == idx) j++;
            const int from = i, to = j;
            i = j;
            if (idx <= 0) continue;
            /* the stretch's length on screen, and its points from the middle outwards */
            double len = 0.0;
            for (int q = from; q < to; q++)
                len += hypot(ab_svg_x(p, param_of(d, &br->points[q + 1])) - ab_svg_x(p, param_of(d, &br->points[q])),
                             ab_svg_y(p, obs_of(&br->points[q + 1], which)) - ab_svg_y(p, obs_of(&br->points[q], which)));
            if (len < INDEX_MIN_RUN) continue;
            ab_plot_label best;
            double best_cost = INFINITY;
            for (int s = 0; s <= to - from; s++) {
                /* candidates: the middle of each segment, nearest the stretch's middle first */
                const int q = (from + to) / 2 + ((s & 1) ? -(s + 1) / 2 : s / 2);
                if (q < from || q >= to) continue;
                const ab_branch_point *u = &br->points[q], *v = &br->points[q + 1];
                double ax = 0.5 * (ab_svg_x(p, param_of(d, u)) + ab_svg_x(p, param_of(d, v)));
                double ay = 0.5 * (ab_svg_y(p, obs_of(u, which)) + ab_svg_y(p, obs_of(v, which)));
                if (under_earlier(L, k, b, ax, ay)) continue;
                ab_plot_label lab;
                memset(&lab, 0, sizeof lab);
                lab.kind = AB_PLOT_LABEL_INDEX, lab.panel = k, lab.branch = b, lab.px = AB_PLOT_INDEX_FONT;
                lab.ax = ax, lab.ay = ay;
                snprintf(lab.text, sizeof lab.text, "%ld", idx);
                double c = ab_plot_place(L, &lab, 1.0);
                if (c < best_cost) best_cost = c, best = lab;
                if (c < COST_CURVE) break; /* clear of everything: good enough */
            }
            if (best_cost < INDEX_MAX_COST && ab_plot_push_label(L, &best)) return ab_error_set(err, AB_ENOMEM, "out of memory");
        }
    }
    return AB_OK;
}

ab_status ab_plot_diagram_layout(const ab_diagram *d, int naive, ab_plot_layout *L, ab_error *err)
{
    memset(L, 0, sizeof *L);
    double x0 = INFINITY, x1 = -INFINITY, r1 = 0.0, s0 = 0.0, s1 = 0.0;
    int nematic = 0;
    for (int b = 0; b < d->n_branches; b++)
        for (int i = 0; i < d->branches[b].n_points; i++) {
            const ab_branch_point *q = &d->branches[b].points[i];
            double x = param_of(d, q);
            x0 = fmin(x0, x), x1 = fmax(x1, x);
            r1 = fmax(r1, q->r);
            s0 = fmin(s0, q->S), s1 = fmax(s1, q->S);
            nematic |= fabs(q->S) > 0.05 && q->r < 0.05;
        }
    if (!(x1 > x0)) x0 -= 0.5, x1 += 0.5;
    if (!(r1 > 0.0)) r1 = 1.0;
    if (!(s1 > s0)) s0 -= 0.5, s1 += 0.5;
    /* names first: the legend's width sets the canvas' */
    L->names = calloc(d->n_branches > 0 ? (size_t)d->n_branches : 1, sizeof *L->names);
    if (!L->names) { ab_plot_layout_free(L); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    size_t longest = 12; /* "unstable (n)" */
    for (int b = 0; b < d->n_branches; b++) {
        char name[64];
        ab_plot_branch_name(d, &d->branches[b], name, sizeof name);
        snprintf(L->names[b], sizeof L->names[b], "%d %s", d->branches[b].id, name);
        if (strlen(L->names[b]) > longest) longest = strlen(L->names[b]);
    }
    L->legend_left = PANEL_LEFT + PANEL_W + LEGEND_GAP;
    L->width = ceil(L->legend_left + 32 + longest * AB_PLOT_CHAR_EM * AB_PLOT_LABEL_FONT + 12);
    if (ab_plot_layout_panels(L, nematic ? 2 : 1)) { ab_plot_layout_free(L); return ab_error_set(err, AB_ENOMEM, "out of memory"); }
    L->height = PANEL_TOP + PANEL_H + 60 + (nematic ? PANEL_H + PANEL_GAP : 0);
    const ab_svg_panel pr = {x0, x1, 0.0, r1 * 1.05, PANEL_LEFT, PANEL_TOP, PANEL_W, PANEL_H};
    const double pad = 0.05 * (s1 - s0);
    const ab_svg_panel ps = {x0, x1, s0 - pad, s1 + pad, PANEL_LEFT, PANEL_TOP + PANEL_H + PANEL_GAP, PANEL_W, PANEL_H};
    L->panel[0] = pr;
    if (nematic) L->panel[1] = ps;
    ab_status st = AB_OK;
    for (int k = 0; k < L->n_panels && !st; k++) st = layout_curves(d, L, k, k, err);
    /* markers, then the special points' labels, then the indices around them */
    for (int k = 0; k < L->n_panels && !st; k++)
        for (int s = 0; s < d->n_special && !st; s++) {
            const ab_special_point *sp = &d->special[s];
            const double X = ab_svg_x(&L->panel[k], d->parameter == AB_PARAM_KAPPA ? sp->kappa : sp->beta);
            const double Y = ab_svg_y(&L->panel[k], k ? sp->S : sp->r);
            ab_plot_box m = {X - AB_PLOT_MARKER_HALF, Y - AB_PLOT_MARKER_HALF, X + AB_PLOT_MARKER_HALF, Y + AB_PLOT_MARKER_HALF};
            if (ab_plot_push_marker(L, m, k)) st = ab_error_set(err, AB_ENOMEM, "out of memory");
        }
    for (int k = 0; k < L->n_panels && !st; k++)
        for (int s = 0; s < d->n_special && !st; s++) {
            const ab_special_point *sp = &d->special[s];
            if (sp->type == AB_SP_END || !sp->profile[0]) continue; /* end points would clutter the window edge */
            ab_plot_label lab;
            memset(&lab, 0, sizeof lab);
            lab.kind = AB_PLOT_LABEL_SPECIAL, lab.panel = k, lab.branch = -1, lab.px = AB_PLOT_LABEL_FONT;
            lab.ax = ab_svg_x(&L->panel[k], d->parameter == AB_PARAM_KAPPA ? sp->kappa : sp->beta);
            lab.ay = ab_svg_y(&L->panel[k], k ? sp->S : sp->r);
            /* the profile's name without .csv (BP1, LP2, ...) */
            snprintf(lab.text, sizeof lab.text, "%.*s", (int)strcspn(sp->profile, "."), sp->profile);
            if (naive) {
                lab.tx = lab.ax + 6, lab.ty = lab.ay - 6;
                lab.box = ab_plot_text_box(lab.tx, lab.ty, strlen(lab.text), lab.px);
            } else {
                ab_plot_place(L, &lab, AB_PLOT_MARKER_HALF);
            }
            if (ab_plot_push_label(L, &lab)) st = ab_error_set(err, AB_ENOMEM, "out of memory");
        }
    for (int k = 0; k < L->n_panels && !st && !naive; k++) st = layout_indices(d, L, k, k, err);
    if (st) ab_plot_layout_free(L);
    return st;
}

static void draw(FILE *out, const ab_diagram *d, const ab_plot_layout *L)
{
    const ab_spec *sp = d->spec;
    const int kappa = d->parameter == AB_PARAM_KAPPA;
    fprintf(out, "<text x='%.0f' y='24' text-anchor='middle' font-size='15'>%s, d = %d, %s = %g: bifurcation diagram</text>\n",
            PANEL_LEFT + PANEL_W / 2, ab_model_kind_name(sp->model.kind), sp->model.d, kappa ? "beta" : "kappa",
            kappa ? sp->model.beta : sp->kappa);
    static const char *const ylabels[2] = {"r (polar order)", "S (nematic order)"};
    for (int k = 0; k < L->n_panels; k++) ab_svg_axes(out, &L->panel[k], kappa ? "kappa" : "beta", ylabels[k]);
    for (int r = 0; r < L->n_runs; r++) {
        const ab_plot_run *run = &L->runs[r];
        fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='1.8'%s points='", ab_svg_colour(run->branch),
                run->stable ? "" : " stroke-dasharray='6,4'");
        for (int i = 0; i < run->curve.n; i++) fprintf(out, "%.2f,%.2f ", run->curve.x[i], run->curve.y[i]);
        fprintf(out, "'/>\n");
    }
    for (int k = 0; k < L->n_panels; k++)
        for (int s = 0; s < d->n_special; s++) {
            const ab_special_point *q = &d->special[s];
            const double X = ab_svg_x(&L->panel[k], kappa ? q->kappa : q->beta), Y = ab_svg_y(&L->panel[k], k ? q->S : q->r);
            switch (q->type) {
            case AB_SP_FOLD: fprintf(out, "<rect x='%.1f' y='%.1f' width='8' height='8' fill='black'/>\n", X - 4, Y - 4); break;
            case AB_SP_HOPF:
                fprintf(out, "<polygon points='%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f' fill='purple'/>\n", X, Y - 6, X + 6, Y,
                        X, Y + 6, X - 6, Y);
                break;
            case AB_SP_END:
                fprintf(out, "<path d='M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f' stroke='#555'/>\n", X - 3, Y - 3, X + 3,
                        Y + 3, X - 3, Y + 3, X + 3, Y - 3);
                break;
            default:
                fprintf(out, "<circle cx='%.1f' cy='%.1f' r='4.5' fill='white' stroke='black' stroke-width='1.5'/>\n", X, Y);
            }
        }
    for (int i = 0; i < L->n_labels; i++) {
        const ab_plot_label *lab = &L->labels[i];
        const int special = lab->kind == AB_PLOT_LABEL_SPECIAL;
        /* a label nudged away from its marker gets a leader line to it */
        const double cx = fmax(lab->box.x0, fmin(lab->ax, lab->box.x1)), cy = fmax(lab->box.y0, fmin(lab->ay, lab->box.y1));
        if (special && fmax(fabs(cx - lab->ax), fabs(cy - lab->ay)) > AB_PLOT_MARKER_HALF + AB_PLOT_LABEL_GAP + 1.0) {
            const double dx = cx - lab->ax, dy = cy - lab->ay, h = hypot(dx, dy);
            fprintf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#888' stroke-width='0.8'/>\n",
                    lab->ax + dx / h * AB_PLOT_MARKER_HALF, lab->ay + dy / h * AB_PLOT_MARKER_HALF, cx, cy);
        }
        fprintf(out, "<text x='%.1f' y='%.1f' font-size='%.0f'%s%s%s>", lab->tx, lab->ty, lab->px, special ? "" : " fill='",
                special ? "" : ab_svg_colour(lab->branch), special ? "" : "'");
        ab_svg_escaped(out, lab->text);
        fputs("</text>\n", out);
    }
    /* legend: one line per branch, then the line styles and the index */
    double y = PANEL_TOP + 10;
    const double x = L->legend_left;
    for (int b = 0; b < d->n_branches; b++, y += 18) {
        fprintf(out, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='%s' stroke-width='2'/>\n", x, y, x + 25, y,
                ab_svg_colour(b));
        fprintf(out, "<text x='%.0f' y='%.0f' font-size='11'>", x + 30, y + 4);
        ab_svg_escaped(out, L->names[b]);
        fputs("</text>\n", out);
    }
    y += 10;
    fprintf(out, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='#333' stroke-width='1.8'/>\n", x, y, x + 25, y);
    fprintf(out, "<text x='%.0f' y='%.0f' font-size='11'>stable</text>\n", x + 30, y + 4);
    y += 18;
    fprintf(out, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='#333' stroke-width='1.8' stroke-dasharray='6,4'/>\n", x,
            y, x + 25, y);
    fprintf(out, "<text x='%.0f' y='%.0f' font-size='11'>unstable</text>\n", x + 30, y + 4);
    y += 18;
    fprintf(out, "<text x='%.0f' y='%.0f' font-size='9' fill='#333'>3</text>\n", x + 10, y + 4);
    fprintf(out, "<text x='%.0f' y='%.0f' font-size='11'>unstable eigenvalues</text>\n", x + 30, y + 4);
}

ab_status ab_plot_diagram_write(const char *dir, const ab_diagram *d, ab_error *err)
{
    ab_plot_layout L;
    ab_status st = ab_plot_diagram_layout(d, 0, &L, err);
    if (st) return st;
    ab_file *f;
    if ((st = ab_file_open_in(dir, "diagram.svg", &f, err))) { ab_plot_layout_free(&L); return st; }
    FILE *out = ab_file_stream(f);
    ab_svg_begin(out, L.width, L.height);
    draw(out, d, &L);
    ab_svg_end(out);
    ab_plot_layout_free(&L);
    return ab_file_commit(f, err);
}

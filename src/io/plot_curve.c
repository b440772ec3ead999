/* Smooth drawn curves: the computed points of a branch joined by cubic Hermite pieces, so
 * that a square-root onset at a pitchfork or the turn at a fold is drawn as a curve, not as
 * a few straight segments (docs/output-run.md, "Curves"). */
#include "io/plot.h"

#include <math.h>
#include <stdlib.h>

/* Pieces of one Hermite segment at most (a segment spanning the whole panel). */
#define MAX_PIECES 400

int ab_plot_curve_push(ab_plot_curve *c, double x, double y)
{
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 64;
        double *nx = realloc(c->x, sizeof(double) * (size_t)cap);
        if (!nx) return -1;
        c->x = nx;
        double *ny = realloc(c->y, sizeof(double) * (size_t)cap);
        if (!ny) return -1;
        c->y = ny;
        c->cap = cap;
    }
    c->x[c->n] = x;
    c->y[c->n] = y;
    c->n++;
    return 0;
}

void ab_plot_curve_free(ab_plot_curve *c)
{
    free(c->x);
    free(c->y);
    c->x = c->y = NULL;
    c->n = c->cap = 0;
}

/* Unit vector of (x, y); (0, 0) stays. */
static void unit(double *x, double *y)
{
    double h = hypot(*x, *y);
    if (h > 0.0) *x /= h, *y /= h;
}

int ab_plot_curve_add(ab_plot_curve *c, int n, const double *px, const double *py, const int *fold, int from, int to)
{
    if (n <= 0 || from < 0 || to >= n || from >= to) return 0;
    /* drop repeated points (a branch that moves to a finer grid repeats its point there) */
    int *keep = malloc(sizeof(int) * (size_t)n);
    double *ux = malloc(sizeof(double) * (size_t)n), *uy = malloc(sizeof(double) * (size_t)n);
    if (!keep || !ux || !uy) { free(keep), free(ux), free(uy); return -1; }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || hypot(px[i] - px[keep[m - 1]], py[i] - py[keep[m - 1]]) > 1e-9) keep[m++] = i;
        else if (fold && fold[i]) keep[m - 1] = i; /* a repeated fold row keeps its mark */
    /* Unit tangents: at an interior point that of the parabola through it and its two
     * neighbours (parametrised by chord length: the nearer neighbour weighs more, which is
     * what follows a square-root onset), at the ends the chord, and vertical at a fold,
     * where the parameter (x) turns back. */
    for (int k = 0; k < m; k++) {
        const int i = keep[k];
        double tx, ty;
        if (m == 1) {
            tx = 1.0, ty = 0.0;
        } else if (k == 0 || k == m - 1) {
            const int a = keep[k == 0 ? 0 : m - 2], b = keep[k == 0 ? 1 : m - 1];
            tx = px[b] - px[a], ty = py[b] - py[a];
        } else {
            const int a = keep[k - 1], b = keep[k + 1];
            double c0x = px[i] - px[a], c0y = py[i] - py[a], c1x = px[b] - px[i], c1y = py[b] - py[i];
            double h0 = hypot(c0x, c0y), h1 = hypot(c1x, c1y);
            tx = (h1 * c0x / h0 + h0 * c1x / h1) / (h0 + h1);
            ty = (h1 * c0y / h0 + h0 * c1y / h1) / (h0 + h1);
        }
        if (fold && fold[i] && m > 1) {
            const int a = keep[k > 0 ? k - 1 : k], b = keep[k < m - 1 ? k + 1 : k];
            tx = 0.0, ty = py[b] - py[a] >= 0.0 ? 1.0 : -1.0;
        }
        unit(&tx, &ty);
        ux[k] = tx, uy[k] = ty;
    }
    int st = 0, started = 0;
    for (int k = 0; k + 1 < m && !st; k++) {
        const int i = keep[k], j = keep[k + 1];
        if (j <= from || i >= to) continue; /* outside the drawn range */
        if (!started && (st = ab_plot_curve_push(c, px[i], py[i]))) break;
        started = 1;
        const double L = hypot(px[j] - px[i], py[j] - py[i]);
        int pieces = (int)ceil(L / AB_PLOT_CURVE_PIECE);
        if (pieces < 1) pieces = 1;
        if (pieces > MAX_PIECES) pieces = MAX_PIECES;
        for (int q = 1; q <= pieces && !st; q++) {
            if (q == pieces) { st = ab_plot_curve_push(c, px[j], py[j]); break; } /* the computed point itself */
            const double t = (double)q / pieces, t2 = t * t, t3 = t2 * t;
            const double h00 = 2 * t3 - 3 * t2 + 1, h10 = t3 - 2 * t2 + t, h01 = -2 * t3 + 3 * t2, h11 = t3 - t2;
            st = ab_plot_curve_push(c, h00 * px[i] + h10 * L * ux[k] + h01 * px[j] + h11 * L * ux[k + 1],
                      h00 * py[i] + h10 * L * uy[k] + h01 * py[j] + h11 * L * uy[k + 1]);
        }
    }
    free(keep), free(ux), free(uy);
    return st;
}

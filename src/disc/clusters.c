/* The cluster decomposition of a density on the whole-sphere grid (docs/sphere.md, "Clusters
 * and maps"): union-find flooding for the prominences, steepest ascent for the basins. */
#include "disc/clusters.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double v;
    int i;
} keyed;

/* Higher rho first, then lower index: a strict total order, so that plateaus (the uniform
 * state) and ties resolve the same way on every run. */
static int by_rho_desc(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* The neighbours of point p (docs/sphere.md, "Clusters and maps"): the 8 surrounding points
 * with the longitude wrapping around, and in a polar row (the first or the last) the whole
 * row, which rings the pole. Duplicates (tiny grids) are harmless to every use below. */
static int neighbours(int nlat, int nlon, int p, int *nb)
{
    int i = p / nlon, j = p % nlon, n = 0;
    for (int di = -1; di <= 1; di++) {
        int r = i + di;
        if (r < 0 || r >= nlat) continue;
        for (int dj = -1; dj <= 1; dj++) {
            if (!di && !dj) continue;
            nb[n++] = r * nlon + (j + dj + nlon) % nlon;
        }
    }
    if (i == 0 || i == nlat - 1)
        for (int c = 0; c < nlon; c++)
            if (c != j && (c - j + nlon) % nlon != 1 && (j - c + nlon) % nlon != 1) nb[n++] = i * nlon + c;
    return n;
}

static int uf_find(int *parent, int p)
{
    while (parent[p] != p) {
        parent[p] = parent[parent[p]]; /* path halving */
        p = parent[p];
    }
    return p;
}

typedef struct {
    ab_cluster c;
    int slot; /* clusters are numbered by peak height (the flooding order) */
} slotted;

/* Larger mass first; equal masses (symmetric states) by peak height, so deterministic. */
static int by_mass_desc(const void *a, const void *b)
{
    const slotted *x = a, *y = b;
    if (x->c.mass != y->c.mass) return x->c.mass > y->c.mass ? -1 : 1;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

ab_status ab_find_clusters(int nlat, int nlon, const double *points, const double *weights, const double *rho,
                           double min_prominence, ab_cluster *out, int max, int *count, ab_error *err)
{
    if (count) *count = 0;
    if (nlat < 1 || nlon < 1 || (long long)nlat * nlon > 1000000000LL)
        return ab_error_set(err, AB_EINVAL, "clusters: grid of %d x %d points", nlat, nlon);
    if (!points || !weights || !rho || (max > 0 && !out))
        return ab_error_set(err, AB_EINVAL, "clusters: missing points, weights, density or output array");
    if (!(min_prominence >= 0.0) || !isfinite(min_prominence))
        return ab_error_set(err, AB_EINVAL, "clusters: min_prominence = %g, must be finite and >= 0", min_prominence);
    int n = nlat * nlon;
    for (int p = 0; p < n; p++) {
        if (!isfinite(rho[p]))
            return ab_error_set(err, AB_ENAN, "clusters: density not finite at grid point %d (row %d, column %d)", p,
                                p / nlon, p % nlon);
        if (rho[p] < 0.0)
            return ab_error_set(err, AB_EINVAL, "clusters: density %g < 0 at grid point %d (row %d, column %d)", rho[p], p,
                                p / nlon, p % nlon);
        if (!(weights[p] > 0.0) || !isfinite(weights[p]))
            return ab_error_set(err, AB_EINVAL, "clusters: quadrature weight %g at grid point %d is not positive", weights[p],
                                p);
    }

    keyed *order = malloc(sizeof *order * (size_t)n);
    int *ibuf = malloc(sizeof(int) * ((size_t)n * 6 + 8 + (size_t)nlon));
    double *prom = malloc(sizeof(double) * (size_t)n);
    slotted *cl = NULL;
    if (!order || !ibuf || !prom) {
        free(order), free(ibuf), free(prom);
        return ab_error_set(err, AB_ENOMEM, "clusters: no memory for a %d-point grid", n);
    }
    int *rank = ibuf, *parent = rank + n, *peak_of = parent + n, *into = peak_of + n, *owner = into + n,
        *target = owner + n, *nb = target + n;
    for (int p = 0; p < n; p++) order[p] = (keyed){rho[p], p};
    qsort(order, (size_t)n, sizeof *order, by_rho_desc);
    for (int r = 0; r < n; r++) rank[order[r].i] = r;

    /* Flooding from the top: a point with no higher neighbour starts a region (its peak);
     * where regions meet at level rho[p], each but the one with the highest peak ends there,
     * and its peak's prominence is its height above that saddle (docs/sphere.md). */
    for (int p = 0; p < n; p++) parent[p] = -1, into[p] = -1, prom[p] = -1.0;
    for (int r = 0; r < n; r++) {
        int p = order[r].i, m = neighbours(nlat, nlon, p, nb), best = -1;
        for (int a = 0; a < m; a++) {
            if (rank[nb[a]] > r) continue;
            int root = uf_find(parent, nb[a]);
            if (best < 0 || rank[peak_of[root]] < rank[peak_of[best]]) best = root;
        }
        if (best < 0) {
            parent[p] = p, peak_of[p] = p;
            continue;
        }
        parent[p] = best;
        for (int a = 0; a < m; a++) {
            if (rank[nb[a]] > r) continue;
            int root = uf_find(parent, nb[a]);
            if (root == best) continue;
            int pk = peak_of[root];
            prom[pk] = rho[pk] - rho[p];
            into[pk] = peak_of[best];
            parent[root] = best;
        }
    }
    /* the highest peak never meets a higher one: its prominence is the whole range */
    prom[order[0].i] = order[0].v - order[n - 1].v;

    /* Owners, from the top down: a prominent peak owns itself; any other peak hands its
     * basin to the owner of the peak it joined (higher, so already settled). Steepest ascent
     * likewise: each point goes where its highest neighbour goes. */
    int n_clusters = 0;
    for (int r = 0; r < n; r++) {
        int p = order[r].i;
        owner[p] = -1;
        int m = neighbours(nlat, nlon, p, nb), up = -1;
        for (int a = 0; a < m; a++)
            if (rank[nb[a]] < r && (up < 0 || rank[nb[a]] < rank[up])) up = nb[a];
        if (up >= 0) {
            target[p] = target[up];
            continue;
        }
        target[p] = p;
        if (prom[p] > min_prominence)
            owner[p] = n_clusters++;
        else if (into[p] >= 0)
            owner[p] = owner[into[p]];
    }
    if (count) *count = n_clusters;
    ab_status st = AB_OK;
    if (n_clusters > 0) {
        cl = calloc((size_t)n_clusters, sizeof *cl);
        double *moment = calloc((size_t)n_clusters * 3, sizeof(double));
        if (!cl || !moment) {
            free(moment);
            st = ab_error_set(err, AB_ENOMEM, "clusters: no memory for %d clusters", n_clusters);
            goto done;
        }
        for (int p = 0; p < n; p++) {
            int c = owner[target[p]];
            if (c < 0) continue;
            double wr = weights[p] * rho[p];
            cl[c].c.mass += wr;
            for (int k = 0; k < 3; k++) moment[3 * c + k] += wr * points[3 * p + k];
        }
        for (int r = 0; r < n; r++) {
            int p = order[r].i, c = owner[p];
            if (target[p] != p || !(prom[p] > min_prominence)) continue;
            cl[c].slot = c;
            cl[c].c.peak = rho[p], cl[c].c.prominence = prom[p];
            double *mo = moment + 3 * c, norm = sqrt(mo[0] * mo[0] + mo[1] * mo[1] + mo[2] * mo[2]);
            /* a basin whose mean of x vanishes (rho = 0 on it) keeps its peak's direction */
            const double *x = norm > 0.0 ? mo : points + 3 * p;
            if (norm == 0.0) norm = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
            for (int k = 0; k < 3; k++) cl[c].c.centre[k] = x[k] / norm;
        }
        free(moment);
        qsort(cl, (size_t)n_clusters, sizeof *cl, by_mass_desc);
        for (int c = 0; c < n_clusters && c < max; c++) out[c] = cl[c].c;
        if (n_clusters > max)
            st = ab_error_set(err, AB_EINVAL, "clusters: %d found, room for %d", n_clusters, max);
    }
done:
    free(cl), free(order), free(ibuf), free(prom);
    return st;
}

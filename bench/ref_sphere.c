/* Reference solver for stationary states on the whole sphere S^2 (see ref_sphere.h and
 * docs/sphere.md, "Independent reference"): Nystrom collocation, explicit kernel. */
#include "ref_sphere.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RS_MAX_NEWTON 60
/* Newton stops when max |F + G mu| is below RS_TOL_RES (1 + max |u|): the rounding floor of
 * u = Phi/kappa - log Z (a few ulps of the largest term). */
#define RS_TOL_RES 2e-14
/* A generator of the guess whose Gram eigenvalue is below this fraction of the largest is
 * a rotation the guess is invariant under (its axis): no phase condition for it. */
#define RS_TOL_AXIS 1e-10
/* The Jacobian is refactored when a chord step reduced the residual by less than this. */
#define RS_CHORD_RATE 0.05
/* Concentration of the bumps of the phase conditions' template (low degree: resolved on any grid). */
#define RS_TEMPLATE_B 3.0
#define RS_MAX_POINTS 6000
/* Peaks: mean-shift iterations and the step at which they stop. */
#define RS_PEAK_ITER 20000
#define RS_PEAK_TOL 1e-15
/* Cells: samples of theta_max(phi) for finding the vertices; Gauss nodes per piece and
 * direction for the returned masses and the check (their difference is mass_err). */
#define RS_CELL_SAMPLES 720
#define RS_CELL_NQ 40
#define RS_CELL_NQ_CHECK 56

static const double PI = 3.14159265358979323846;

struct ref_sphere_state {
    int model, n;
    double beta, kappa;
    double *x;   /* 3 n coordinates */
    double *w;   /* weights of sigma, sum 1 */
    double *u;   /* log rho at the nodes */
    double umax; /* max u (the shift inside the SA log-sum-exp) */
    double logZ; /* log sum_p w_p e^{Phi_p / kappa} with Phi as phi_at computes it */
};

/* Gauss-Legendre rule on [-1, 1] (nodes ascending): Newton on the three-term recurrence
 * from Tricomi's initial guess, the weights from P_n'. (GSL's glfixed computes the rules it
 * does not tabulate to only ~1e-12; docs/sphere.md, "Independent reference".) */
static void gauss_legendre(int n, double *x, double *w)
{
    for (int i = 0; i < (n + 1) / 2; i++) {
        double z = cos(PI * (i + 0.75) / (n + 0.5)), dp = 1.0;
        for (int it = 0; it < 100; it++) {
            double p0 = 1.0, p1 = z;
            for (int k = 2; k <= n; k++) {
                double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            if (n == 1) p0 = 1.0, p1 = z;
            dp = n * (z * p1 - p0) / (z * z - 1.0);
            double dz = p1 / dp;
            z -= dz;
            if (fabs(dz) < 1e-17) break;
        }
        double p0 = 1.0, p1 = z;
        for (int k = 2; k <= n; k++) {
            double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
            p0 = p1;
            p1 = p2;
        }
        dp = n * (z * p1 - p0) / (z * z - 1.0);
        double wi = 2.0 / ((1.0 - z * z) * dp * dp);
        x[i] = -z;
        x[n - 1 - i] = z;
        w[i] = w[n - 1 - i] = wi;
    }
    if (n % 2) x[n / 2] = 0.0;
}

/* Phi(x) up to the additive constant the solver uses throughout: SA (1/beta) log sum_q w_q
 * e^{beta(<x,x_q> - 1) + u_q - umax}, USA (1/beta) sum_q w_q e^{beta <x,x_q>} rho_q.
 * grad (if not NULL) receives the ambient gradient (only x times it is used). */
static double phi_at(const struct ref_sphere_state *s, const double *xp, double *grad)
{
    double acc = 0.0, g[3] = {0, 0, 0};
    const double b = s->beta;
    for (int q = 0; q < s->n; q++) {
        const double *y = s->x + 3 * q;
        double k = xp[0] * y[0] + xp[1] * y[1] + xp[2] * y[2];
        double e = s->model == REF_SPHERE_SA ? s->w[q] * exp(b * (k - 1.0) + s->u[q] - s->umax)
                                             : s->w[q] * exp(b * k + s->u[q]);
        acc += e;
        g[0] += e * y[0];
        g[1] += e * y[1];
        g[2] += e * y[2];
    }
    if (s->model == REF_SPHERE_SA) {
        if (grad)
            for (int i = 0; i < 3; i++) grad[i] = g[i] / acc;
        return log(acc) / b;
    }
    if (grad)
        for (int i = 0; i < 3; i++) grad[i] = g[i];
    return acc / b;
}

double ref_sphere_rho(const ref_sphere_state *s, const double x[3])
{
    double nx = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
    double y[3] = {x[0] / nx, x[1] / nx, x[2] / nx};
    return exp(phi_at(s, y, NULL) / s->kappa - s->logZ);
}

void ref_sphere_free(ref_sphere_state *s)
{
    if (!s) return;
    free(s->x);
    free(s->w);
    free(s->u);
    free(s);
}

int ref_sphere_arrangement(const char *name, int k, double c[][3])
{
    if (!strcmp(name, "tetrahedron")) {
        const double t[4][3] = {{1, 1, 1}, {1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}};
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++) c[i][j] = t[i][j] / sqrt(3.0);
        return 4;
    }
    if (!strcmp(name, "polygon")) {
        if (k < 2 || k > REF_SPHERE_MAX_CLUSTERS) return 0;
        for (int i = 0; i < k; i++) {
            c[i][0] = cos(2 * PI * i / k);
            c[i][1] = sin(2 * PI * i / k);
            c[i][2] = 0.0;
        }
        return k;
    }
    if (!strcmp(name, "antipodal")) {
        c[0][0] = c[0][1] = c[1][0] = c[1][1] = 0.0;
        c[0][2] = 1.0;
        c[1][2] = -1.0;
        return 2;
    }
    if (!strcmp(name, "one")) {
        c[0][0] = c[0][1] = 0.0;
        c[0][2] = 1.0;
        return 1;
    }
    return 0;
}

/* Phi at the nodes, log Z, the residual F = u - Phi/kappa + log Z and (if D != NULL) the
 * Jacobian J = I - (1/kappa)(I - 1 pi^T) dPhi/du, column-major with leading dimension ld. */
typedef struct {
    struct ref_sphere_state *s;
    const double *E; /* e^{beta (<x_p, x_q> - 1)}, row p contiguous (symmetric anyway) */
    double *phi, *rho, *tmp, *sv;
} rs_work;

static void residual(rs_work *wk, double *F, double *J, int ld)
{
    struct ref_sphere_state *s = wk->s;
    const int n = s->n;
    const double b = s->beta, kap = s->kappa;
    double umax = -INFINITY;
    for (int q = 0; q < n; q++) umax = fmax(umax, s->u[q]);
    s->umax = umax;
    for (int q = 0; q < n; q++) wk->rho[q] = s->w[q] * exp(s->u[q] - umax); /* w_q rho_q e^{-umax} */
    /* USA: Phi = (e^beta / beta) e^{umax} sum_q E_pq w_q rho_q e^{-umax} */
    const double usa_scale = exp(b + umax) / b;
    for (int p = 0; p < n; p++) {
        const double *Ep = wk->E + (size_t)p * n;
        double acc = 0.0;
        for (int q = 0; q < n; q++) acc += Ep[q] * wk->rho[q];
        wk->tmp[p] = acc;
        wk->phi[p] = s->model == REF_SPHERE_SA ? log(acc) / b : usa_scale * acc;
    }
    double amax = -INFINITY;
    for (int p = 0; p < n; p++) amax = fmax(amax, wk->phi[p] / kap);
    double z = 0.0;
    for (int p = 0; p < n; p++) z += s->w[p] * exp(wk->phi[p] / kap - amax);
    s->logZ = amax + log(z);
    for (int p = 0; p < n; p++) F[p] = s->u[p] - wk->phi[p] / kap + s->logZ;
    if (!J) return;
    /* D_pq = dPhi_p/du_q: SA E_pq w_q rho_q / (beta S_p), USA usa_scale E_pq w_q rho_q e^{-umax};
     * J = I - (D - 1 s^T)/kappa with s = pi^T D, pi_p = w_p e^{Phi_p/kappa} / Z */
    double *sv = wk->sv;
    memset(sv, 0, sizeof(double) * n);
    for (int p = 0; p < n; p++) {
        const double *Ep = wk->E + (size_t)p * n;
        double rowscale = s->model == REF_SPHERE_SA ? 1.0 / (b * wk->tmp[p]) : usa_scale;
        double pi = s->w[p] * exp(wk->phi[p] / kap - s->logZ);
        for (int q = 0; q < n; q++) {
            double d = rowscale * Ep[q] * wk->rho[q];
            J[(size_t)q * ld + p] = -d / kap;
            sv[q] += pi * d;
        }
    }
    for (int q = 0; q < n; q++) {
        double *col = J + (size_t)q * ld;
        for (int p = 0; p < n; p++) col[p] += sv[q] / kap;
        col[q] += 1.0;
    }
}

static double max_abs(const double *v, int n)
{
    double m = 0.0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

static int fail(ref_sphere_result *out, int status, const char *msg)
{
    out->status = status;
    snprintf(out->message, sizeof out->message, "%s", msg);
    return status;
}

/* The peak of rho nearest x (in place): the fixed point of x <- grad Phi(x) / |grad Phi(x)|,
 * the mean-shift iteration of the kernel e^{beta <x,y>}, which climbs Phi (and rho). */
static void find_peak(const struct ref_sphere_state *s, double *x)
{
    for (int it = 0; it < RS_PEAK_ITER; it++) {
        double g[3];
        phi_at(s, x, g);
        double ng = sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
        double dx = 0.0;
        for (int a = 0; a < 3; a++) {
            double v = g[a] / ng;
            dx = fmax(dx, fabs(v - x[a]));
            x[a] = v;
        }
        if (dx < RS_PEAK_TOL) break;
    }
}

/* Angle from c_i to the bisector of c_i and c_j along the geodesic in direction d (d
 * orthogonal to c_i): x = cos t c_i + sin t d meets <x, c_i - c_j> = 0 at t = atan2(1 - g, d.c_j). */
static double bisector_angle(const double *ci, const double *cj, const double *d)
{
    double g = ci[0] * cj[0] + ci[1] * cj[1] + ci[2] * cj[2];
    return atan2(1.0 - g, d[0] * cj[0] + d[1] * cj[1] + d[2] * cj[2]);
}

typedef struct {
    const double (*c)[3];
    int k, i;
    double e1[3], e2[3];
} rs_cell;

static void cell_dir(const rs_cell *cl, double ph, double *d)
{
    for (int a = 0; a < 3; a++) d[a] = cos(ph) * cl->e1[a] + sin(ph) * cl->e2[a];
}

/* theta_max(phi) of cell i and the index of the neighbour that sets it (-1: none, pi) */
static double cell_edge(const rs_cell *cl, double ph, int *who)
{
    double d[3], best = PI;
    cell_dir(cl, ph, d);
    *who = -1;
    for (int j = 0; j < cl->k; j++) {
        if (j == cl->i) continue;
        double t = bisector_angle(cl->c[cl->i], cl->c[j], d);
        if (t < best) {
            best = t;
            *who = j;
        }
    }
    return best;
}

/* Mass and first moment of rho over the Voronoi cell of c_i among c_0..c_{k-1}: polar
 * coordinates about c_i, Gauss-Legendre in theta on [0, theta_max(phi)] and in phi on the
 * pieces between the cell's vertices (where theta_max has kinks), so the quadrature is
 * spectral on each smooth piece; nq nodes per piece and direction. */
static void cell_integrals(const struct ref_sphere_state *s, const double (*c)[3], int k, int i, int nq,
                           const double *gx, const double *gw, double *mass, double *mom)
{
    rs_cell cl = {c, k, i, {0}, {0}};
    const double *ci = c[i];
    double t[3] = {1, 0, 0};
    if (fabs(ci[0]) > 0.6) t[0] = 0, t[1] = 1;
    double dt = t[0] * ci[0] + t[1] * ci[1] + t[2] * ci[2], ne = 0.0;
    for (int a = 0; a < 3; a++) {
        cl.e1[a] = t[a] - dt * ci[a];
        ne += cl.e1[a] * cl.e1[a];
    }
    for (int a = 0; a < 3; a++) cl.e1[a] /= sqrt(ne);
    cl.e2[0] = ci[1] * cl.e1[2] - ci[2] * cl.e1[1];
    cl.e2[1] = ci[2] * cl.e1[0] - ci[0] * cl.e1[2];
    cl.e2[2] = ci[0] * cl.e1[1] - ci[1] * cl.e1[0];
    /* kinks: where the neighbour setting theta_max changes, found on a fine sampling and
     * refined by bisection on the difference of the two bisector angles */
    double brk[RS_CELL_SAMPLES + 1];
    int nb = 0, prev;
    /* sampling starts off any symmetric direction (a vertex at phi = 0 would be missed) */
    const double ph0 = 0.38196601125 * 2.0 * PI / RS_CELL_SAMPLES;
    cell_edge(&cl, ph0, &prev);
    for (int m = 1; m <= RS_CELL_SAMPLES; m++) {
        double ph = ph0 + 2.0 * PI * m / RS_CELL_SAMPLES;
        int cur;
        cell_edge(&cl, ph, &cur);
        if (cur != prev && cur >= 0 && prev >= 0) {
            double lo = ph0 + 2.0 * PI * (m - 1) / RS_CELL_SAMPLES, hi = ph, d[3];
            for (int b = 0; b < 80 && hi - lo > 1e-16; b++) {
                double mid = 0.5 * (lo + hi);
                cell_dir(&cl, mid, d);
                if (bisector_angle(ci, c[prev], d) < bisector_angle(ci, c[cur], d))
                    lo = mid;
                else
                    hi = mid;
            }
            brk[nb++] = 0.5 * (lo + hi);
        }
        prev = cur;
    }

    /* pieces: between consecutive kinks (cyclically), or four quarters without kinks */
    double pieces[RS_CELL_SAMPLES + 2];
    int np;
    if (nb == 0) {
        for (np = 0; np <= 4; np++) pieces[np] = 0.5 * PI * np;
        np = 4;
    } else {
        for (int b = 0; b < nb; b++) pieces[b] = brk[b];
        pieces[nb] = brk[0] + 2.0 * PI;
        np = nb;
    }
    double ms = 0.0, mm[3] = {0, 0, 0};
    for (int pc = 0; pc < np; pc++) {
        double a0 = pieces[pc], a1 = pieces[pc + 1];
        for (int jp = 0; jp < nq; jp++) {
            double ph, wph, d[3];
            ph = 0.5 * (a0 + a1) + 0.5 * (a1 - a0) * gx[jp];
            wph = 0.5 * (a1 - a0) * gw[jp];
            int who;
            double tmax = cell_edge(&cl, ph, &who);
            cell_dir(&cl, ph, d);
            for (int jt = 0; jt < nq; jt++) {
                double th, wth, x[3];
                th = 0.5 * tmax * (1.0 + gx[jt]);
                wth = 0.5 * tmax * gw[jt];
                for (int a = 0; a < 3; a++) x[a] = cos(th) * ci[a] + sin(th) * d[a];
                double f = wph * wth * sin(th) * ref_sphere_rho(s, x) / (4.0 * PI);
                ms += f;
                for (int a = 0; a < 3; a++) mm[a] += f * x[a];
            }
        }
    }
    *mass = ms;
    for (int a = 0; a < 3; a++) mom[a] = mm[a];
}

int ref_sphere_solve(const ref_sphere_params *pp, ref_sphere_result *out, ref_sphere_state **state)
{
    memset(out, 0, sizeof *out);
    out->free_energy = NAN;
    if (state) *state = NULL;
    if (pp->model != REF_SPHERE_SA && pp->model != REF_SPHERE_USA) return fail(out, 1, "model must be SA or USA");
    if (!(pp->beta > 0.0) || !(pp->kappa > 0.0)) return fail(out, 1, "beta and kappa must be positive");
    if (pp->nlat < 2 || pp->nlon < 3 || (long)pp->nlat * pp->nlon > RS_MAX_POINTS)
        return fail(out, 1, "grid must have nlat >= 2, nlon >= 3 and at most 6000 points (RS_MAX_POINTS: the dense LU)");
    if (pp->k < 1 || pp->k > REF_SPHERE_MAX_CLUSTERS) return fail(out, 1, "k out of range");
    const int k = pp->k, n = pp->nlat * pp->nlon;
    double c[REF_SPHERE_MAX_CLUSTERS][3], cw[REF_SPHERE_MAX_CLUSTERS], wsum = 0.0;
    for (int i = 0; i < k; i++) {
        double nc = sqrt(pp->centres[i][0] * pp->centres[i][0] + pp->centres[i][1] * pp->centres[i][1] +
                         pp->centres[i][2] * pp->centres[i][2]);
        if (!(nc > 0.0) || !(pp->weights[i] > 0.0)) return fail(out, 1, "centres must be nonzero, weights positive");
        for (int j = 0; j < 3; j++) c[i][j] = pp->centres[i][j] / nc;
        wsum += pp->weights[i];
    }
    for (int i = 0; i < k; i++) cw[i] = pp->weights[i] / wsum;

    struct ref_sphere_state *s = calloc(1, sizeof *s);
    const int nb = n + 3;
    rs_work wk = {0};
    double *E = NULL, *M = NULL, *F = NULL, *rhs = NULL, *u0 = NULL, *G = NULL, *T = NULL, *mu = NULL;
    lapack_int *ipiv = NULL;
    if (s) {
        s->x = malloc(sizeof(double) * 3 * n);
        s->w = malloc(sizeof(double) * n);
        s->u = malloc(sizeof(double) * n);
    }
    E = malloc(sizeof(double) * (size_t)n * n);
    M = malloc(sizeof(double) * (size_t)nb * nb);
    F = malloc(sizeof(double) * nb);
    rhs = malloc(sizeof(double) * nb);
    u0 = malloc(sizeof(double) * n);
    G = malloc(sizeof(double) * 3 * n);
    T = malloc(sizeof(double) * 3 * n);
    mu = calloc(3, sizeof(double));
    ipiv = malloc(sizeof(lapack_int) * nb);
    wk.phi = malloc(sizeof(double) * n);
    wk.rho = malloc(sizeof(double) * n);
    wk.tmp = malloc(sizeof(double) * n);
    wk.sv = malloc(sizeof(double) * n);
    double *glx = malloc(sizeof(double) * pp->nlat), *glw = malloc(sizeof(double) * pp->nlat);
    int status = 0;
    if (!s || !s->x || !s->w || !s->u || !E || !M || !F || !rhs || !u0 || !G || !T || !mu || !ipiv || !wk.phi ||
        !wk.rho || !wk.tmp || !wk.sv || !glx || !glw) {
        status = fail(out, 1, "out of memory");
        goto done;
    }
    s->model = pp->model;
    s->beta = pp->beta;
    s->kappa = pp->kappa;
    s->n = n;
    wk.s = s;
    wk.E = E;
    gauss_legendre(pp->nlat, glx, glw);
    /* grid: Gauss-Legendre in z (weights / 2) times the trapezoid rule in phi (1 / nlon) */
    for (int i = 0; i < pp->nlat; i++) {
        double zi = glx[i], wi = glw[i];
        double st = sqrt((1.0 - zi) * (1.0 + zi));
        for (int j = 0; j < pp->nlon; j++) {
            int p = i * pp->nlon + j;
            double ph = 2.0 * PI * j / pp->nlon;
            s->x[3 * p] = st * cos(ph);
            s->x[3 * p + 1] = st * sin(ph);
            s->x[3 * p + 2] = zi;
            s->w[p] = 0.5 * wi / pp->nlon;
        }
    }
    for (int p = 0; p < n; p++)
        for (int q = 0; q < n; q++) {
            const double *a = s->x + 3 * p, *bq = s->x + 3 * q;
            E[(size_t)p * n + q] = exp(pp->beta * (a[0] * bq[0] + a[1] * bq[1] + a[2] * bq[2] - 1.0));
        }
    /* guess u0 = log sum_i w_i e^{b_i (<x, c_i> - 1)} and its rotation generators x times grad u0 */
    for (int p = 0; p < n; p++) {
        const double *xp = s->x + 3 * p;
        double terms[REF_SPHERE_MAX_CLUSTERS], tmax = -INFINITY, bi[REF_SPHERE_MAX_CLUSTERS];
        for (int i = 0; i < k; i++) {
            bi[i] = pp->guess_b > 0 ? pp->guess_b
                    : pp->model == REF_SPHERE_SA ? 1.0 / pp->kappa
                                                  : cw[i] * exp(pp->beta) / pp->kappa;
            terms[i] = log(cw[i]) + bi[i] * (xp[0] * c[i][0] + xp[1] * c[i][1] + xp[2] * c[i][2] - 1.0);
            tmax = fmax(tmax, terms[i]);
        }
        double sum = 0.0, gr[3] = {0, 0, 0};
        for (int i = 0; i < k; i++) {
            double e = exp(terms[i] - tmax);
            sum += e;
            for (int j = 0; j < 3; j++) gr[j] += e * bi[i] * c[i][j];
        }
        for (int j = 0; j < 3; j++) gr[j] /= sum;
        u0[p] = tmax + log(sum);
        G[p] = xp[1] * gr[2] - xp[2] * gr[1];
        G[n + p] = xp[2] * gr[0] - xp[0] * gr[2];
        G[2 * n + p] = xp[0] * gr[1] - xp[1] * gr[0];
        /* template h = sum_i w_i e^{b_T (<x, c_i> - 1)}, X h = x times grad h */
        double th[3] = {0, 0, 0};
        for (int i = 0; i < k; i++) {
            double e = cw[i] * RS_TEMPLATE_B * exp(RS_TEMPLATE_B * (xp[0] * c[i][0] + xp[1] * c[i][1] + xp[2] * c[i][2] - 1.0));
            for (int j = 0; j < 3; j++) th[j] += e * c[i][j];
        }
        T[p] = xp[1] * th[2] - xp[2] * th[1];
        T[n + p] = xp[2] * th[0] - xp[0] * th[2];
        T[2 * n + p] = xp[0] * th[1] - xp[1] * th[0];
    }
    if (pp->start) {
        const ref_sphere_state *st = pp->start;
        if (st->model != pp->model || st->beta != pp->beta || st->kappa != pp->kappa) {
            status = fail(out, 1, "start state has another model, beta or kappa");
            goto done;
        }
        for (int p = 0; p < n; p++) {
            const double *xp = s->x + 3 * p;
            double gr[3];
            u0[p] = phi_at(st, xp, gr) / st->kappa;
            for (int j = 0; j < 3; j++) gr[j] /= st->kappa;
            G[p] = xp[1] * gr[2] - xp[2] * gr[1];
            G[n + p] = xp[2] * gr[0] - xp[0] * gr[2];
            G[2 * n + p] = xp[0] * gr[1] - xp[1] * gr[0];
        }
    }
    { /* normalise the guess */
        double m = -INFINITY, z = 0.0;
        for (int p = 0; p < n; p++) m = fmax(m, u0[p]);
        for (int p = 0; p < n; p++) z += s->w[p] * exp(u0[p] - m);
        for (int p = 0; p < n; p++) s->u[p] = u0[p] -= m + log(z);
    }
    /* phase conditions C_j(u) = sum_p w_p (X_j h)(x_p) rho_p = 0: rho sits at a stationary
     * point of its overlap with the rotated template h (bumps of low degree at the given
     * centres, also with a start state, so that every grid pins the same orientation), so the condition is resolved wherever rho is and holds exactly
     * at a state with the template's symmetry. X_j: the w-orthonormal combinations of the
     * template's generators, without the ones it is invariant under (its axis); the
     * multipliers' columns are the same combinations of the guess's generators X u0. */
    int nc = 0;
    {
        double gram[9], ev[3];
        for (int a = 0; a < 3; a++)
            for (int bb = 0; bb < 3; bb++) {
                double acc = 0.0;
                for (int p = 0; p < n; p++) acc += s->w[p] * T[a * n + p] * T[bb * n + p];
                gram[a * 3 + bb] = acc;
            }
        if (LAPACKE_dsyev(LAPACK_COL_MAJOR, 'V', 'U', 3, gram, 3, ev) != 0) {
            status = fail(out, 1, "dsyev failed on the generators' Gram matrix");
            goto done;
        }
        double *Gn = malloc(sizeof(double) * 6 * n), *Tn = Gn ? Gn + 3 * n : NULL;
        if (!Gn) {
            status = fail(out, 1, "out of memory");
            goto done;
        }
        for (int j = 2; j >= 0; j--) {
            if (!(ev[j] > RS_TOL_AXIS * ev[2])) continue;
            double gg = 0.0;
            for (int p = 0; p < n; p++) {
                double acc = 0.0, act = 0.0;
                for (int a = 0; a < 3; a++) {
                    acc += gram[j * 3 + a] * G[a * n + p];
                    act += gram[j * 3 + a] * T[a * n + p];
                }
                Gn[nc * n + p] = acc;
                Tn[nc * n + p] = act / sqrt(ev[j]);
                gg += s->w[p] * acc * acc;
            }
            for (int p = 0; p < n; p++) Gn[nc * n + p] /= sqrt(gg);
            nc++;
        }
        memcpy(G, Gn, sizeof(double) * 3 * n);
        memcpy(T, Tn, sizeof(double) * 3 * n);
        free(Gn);
    }
    out->phase_conditions = nc;
    const int m = n + nc;

    /* Newton (chord steps while they contract fast) on [F(u) + G mu; C(u)] = 0 */
    double res = INFINITY;
    int have_lu = 0, it;
    for (it = 0; it <= RS_MAX_NEWTON; it++) {
        int fresh = !have_lu;
        residual(&wk, F, fresh ? M : NULL, m);
        for (int a = 0; a < nc; a++)
            for (int p = 0; p < n; p++) F[p] += G[a * n + p] * mu[a];
        for (int a = 0; a < nc; a++) {
            double acc = 0.0;
            for (int p = 0; p < n; p++) acc += s->w[p] * T[a * n + p] * exp(s->u[p]);
            F[n + a] = acc;
        }
        double newres = max_abs(F, m);
        if (!(newres == newres)) {
            status = fail(out, 2, "residual not finite");
            goto done;
        }
        double umax_abs = max_abs(s->u, n);
        if (newres <= RS_TOL_RES * (1.0 + umax_abs)) {
            res = newres;
            break;
        }
        if (have_lu && !(newres < RS_CHORD_RATE * res)) {
            /* the chord step contracted too slowly: refactor at the current point */
            residual(&wk, F, M, m);
            for (int a = 0; a < nc; a++)
                for (int p = 0; p < n; p++) F[p] += G[a * n + p] * mu[a];
            fresh = 1;
        }
        res = newres;
        if (fresh) {
            for (int a = 0; a < nc; a++) {
                for (int p = 0; p < n; p++) {
                    M[(size_t)(n + a) * m + p] = G[a * n + p];       /* multiplier column */
                    M[(size_t)p * m + n + a] = s->w[p] * T[a * n + p] * exp(s->u[p]); /* dC_a/du_p */
                }
                for (int bb = 0; bb < nc; bb++) M[(size_t)(n + a) * m + n + bb] = 0.0;
            }
            if (LAPACKE_dgetrf(LAPACK_COL_MAJOR, m, m, M, m, ipiv) != 0) {
                status = fail(out, 2, "singular bordered Jacobian");
                goto done;
            }
            have_lu = 1;
            out->factorizations++;
        }
        for (int i = 0; i < m; i++) rhs[i] = -F[i];
        if (LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'N', m, 1, M, m, ipiv, rhs, m) != 0) {
            status = fail(out, 2, "dgetrs failed");
            goto done;
        }
        /* cap the step: a guess far from the state must not jump out of the grid's range */
        double step = max_abs(rhs, n), lam = step > 2.0 ? 2.0 / step : 1.0;
        for (int p = 0; p < n; p++) s->u[p] += lam * rhs[p];
        for (int a = 0; a < nc; a++) mu[a] += lam * rhs[n + a];
        if (lam < 1.0) have_lu = 0;
    }
    if (it > RS_MAX_NEWTON) {
        char msg[160];
        snprintf(msg, sizeof msg, "Newton did not converge in %d iterations (residual %.3g)", RS_MAX_NEWTON, res);
        status = fail(out, 2, msg);
        goto done;
    }
    out->newton_iterations = it;
    out->multiplier = max_abs(mu, nc);
    residual(&wk, F, NULL, m);
    out->residual = max_abs(F, n);

    /* observables */
    {
        double mom[3] = {0, 0, 0}, Q[9] = {0}, ent = 0.0, rmin = INFINITY, rmax = 0.0;
        for (int p = 0; p < n; p++) {
            const double *xp = s->x + 3 * p;
            double rho = exp(s->u[p]), wr = s->w[p] * rho;
            rmin = fmin(rmin, rho);
            rmax = fmax(rmax, rho);
            ent -= wr * s->u[p];
            for (int a = 0; a < 3; a++) {
                mom[a] += wr * xp[a];
                for (int bb = 0; bb < 3; bb++) Q[a * 3 + bb] += wr * (1.5 * xp[a] * xp[bb] - (a == bb ? 0.5 : 0.0));
            }
        }
        out->r = sqrt(mom[0] * mom[0] + mom[1] * mom[1] + mom[2] * mom[2]);
        double ev[3];
        if (LAPACKE_dsyev(LAPACK_COL_MAJOR, 'N', 'U', 3, Q, 3, ev) != 0) {
            status = fail(out, 1, "dsyev failed on Q");
            goto done;
        }
        out->S = fabs(ev[0]) > fabs(ev[2]) ? ev[0] : ev[2];
        out->entropy = ent;
        out->rho_min = rmin;
        out->rho_max = rmax;
        if (pp->model == REF_SPHERE_USA) {
            /* kappa int rho log rho - (1/(2 beta)) int int e^{beta <x,y>} (rho(x) rho(y) - 1) */
            double pair = 0.0;
            for (int p = 0; p < n; p++) {
                const double *Ep = E + (size_t)p * n;
                double rp = exp(s->u[p]), acc = 0.0;
                for (int q = 0; q < n; q++) acc += s->w[q] * Ep[q] * (rp * exp(s->u[q]) - 1.0);
                pair += s->w[p] * acc;
            }
            out->free_energy = -pp->kappa * ent - exp(pp->beta) * pair / (2.0 * pp->beta);
        }
    }
    out->points = n;
    /* leave umax and logZ consistent with the returned u for ref_sphere_rho */
    residual(&wk, F, NULL, m);
    /* clusters: the peaks reached from the given centres, the Voronoi cells of the peaks */
    {
        double pk[REF_SPHERE_MAX_CLUSTERS][3];
        for (int i = 0; i < k; i++) {
            for (int a = 0; a < 3; a++) pk[i][a] = c[i][a];
            find_peak(s, pk[i]);
            for (int a = 0; a < 3; a++) out->peak[i][a] = pk[i][a];
            out->peak_rho[i] = ref_sphere_rho(s, pk[i]);
        }
        for (int i = 0; i < k; i++)
            for (int j = 0; j < i; j++) {
                double g = pk[i][0] * pk[j][0] + pk[i][1] * pk[j][1] + pk[i][2] * pk[j][2];
                if (g > 1.0 - 1e-10) {
                    status = fail(out, 3, "two given centres climb to the same peak of rho");
                    goto done;
                }
            }
        double gx1[RS_CELL_NQ], gw1[RS_CELL_NQ], gx2[RS_CELL_NQ_CHECK], gw2[RS_CELL_NQ_CHECK];
        gauss_legendre(RS_CELL_NQ, gx1, gw1);
        gauss_legendre(RS_CELL_NQ_CHECK, gx2, gw2);
        double total = 0.0;
        for (int i = 0; i < k; i++) {
            double m1, m2, mo1[3], mo2[3];
            cell_integrals(s, (const double(*)[3])pk, k, i, RS_CELL_NQ, gx1, gw1, &m1, mo1);
            cell_integrals(s, (const double(*)[3])pk, k, i, RS_CELL_NQ_CHECK, gx2, gw2, &m2, mo2);
            out->mass[i] = m2;
            total += m2;
            out->mass_err = fmax(out->mass_err, fabs(m1 - m2));
            double nn = sqrt(mo2[0] * mo2[0] + mo2[1] * mo2[1] + mo2[2] * mo2[2]);
            for (int a = 0; a < 3; a++) out->centre[i][a] = mo2[a] / nn;
        }
        out->mass_total = total;
    }

done:
    out->status = status;
    free(glx);
    free(glw);
    free(E);
    free(M);
    free(F);
    free(rhs);
    free(u0);
    free(G);
    free(T);
    free(mu);
    free(ipiv);
    free(wk.phi);
    free(wk.rho);
    free(wk.tmp);
    free(wk.sv);
    if (status == 0 && state)
        *state = s;
    else
        ref_sphere_free(s);
    return status;
}

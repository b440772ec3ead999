/* Spherical harmonic transforms (src/disc/sht.h, docs/sphere.md "Transforms"): round trips,
 * orthonormality, analytic coefficients of exp(b <x, e>), gradients, point evaluation, bad
 * arguments. Tolerances are in docs/testing.md. */
#include "disc/sht.h"
#include "testutil.h"

#include <gsl/gsl_math.h> /* M_PI (not in strict C11) */
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_legendre.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Round trips, in the L2(sigma) norm (coefficients: Euclidean norm), measured <= 7.2e-16
 * up to L = 128; with the nodes rounded to double it was 1e-14 (docs/sphere.md,
 * "Transforms"). */
#define TOL_ROUND_TRIP 1e-14
/* ... and in the max norm (largest error over the largest value): measured <= 1.8e-15
 * (2.5e-13 with the nodes rounded to double). */
#define TOL_ROUND_TRIP_MAX 1e-14
/* Every harmonic analyses to its unit vector: measured 4.4e-16 at L = 12. */
#define TOL_ORTHO 2e-15
/* Coefficients of exp(b <x, e>) against i_l(b) Y_lm(e) (GSL's Bessel and Legendre
 * functions, independent of src/disc/sht.c): relative on every coefficient above
 * EXP_REL_FLOOR times the largest, absolute (in units of max f = e^b) on all. */
#define TOL_EXP_REL 1e-13
#define TOL_EXP_ABS 1e-15
#define EXP_REL_FLOOR 1e-2
/* Gradients of band-limited functions against closed forms, relative to the largest
 * gradient component. */
#define TOL_GRAD 1e-13
/* ... and against 4th-order central differences of ab_sht_eval in theta and phi with step
 * FD_STEP: truncation h^4 L^5 / 30 ~ 1e-9 at L = 8 at worst (7e-11 measured), rounding
 * eps / h ~ 1e-13. */
#define FD_STEP 1e-3
#define TOL_GRAD_FD 1e-9
/* ab_sht_eval at the grid points against synthesis, relative to max |f|: different
 * summation orders (FFT against cos/sin of m phi with phi from atan2 of the rounded point),
 * rounding only, growing like L: 1e-14 up to L = 16 (measured 2.9e-15), 2e-14 at L = 32
 * (measured 8.8e-15). */
#define TOL_EVAL_GRID 1e-14
#define TOL_EVAL_GRID_32 2e-14
/* ... and at L = 128 on the latitudes nearest the poles: measured 7.7e-16, and 5.4e-14 when
 * eval takes the rounded cos theta as it is. */
#define TOL_EVAL_POLES 5e-15
/* ab_sht_eval of the analysed exp(b <x, e>) at random points against the function, relative
 * to its maximum e^b: rounding of the analysis. */
#define TOL_EVAL_POINTS 1e-14
/* Single harmonics against recorded mpmath values: the long-double recurrence's rounding
 * plus that of cos / sin (m phi) (measured <= 1.3e-16). */
#define TOL_MPMATH 1e-15
/* The quadrature weights add up to 1 (sigma has mass 1). */
#define TOL_WEIGHT_SUM 1e-15

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
/* uniform in (-1, 1), xorshift64*: reproducible without libc's rand */
static double urand(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    const uint64_t r = rng_state * 2685821657736338717ULL;
    return 2.0 * ((double)(r >> 11) / 9007199254740992.0) - 1.0;
}

static double max_abs(const double *v, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

static double max_diff(const double *a, const double *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return isfinite(m) ? m : INFINITY;
}

/* ||a - b|| / ||b||, with weights w (NULL: all 1) */
static double rel_l2(const double *a, const double *b, const double *w, size_t n)
{
    double e = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) {
        e += (w ? w[i] : 1.0) * (a[i] - b[i]) * (a[i] - b[i]);
        s += (w ? w[i] : 1.0) * b[i] * b[i];
    }
    return isfinite(e) ? sqrt(e / s) : INFINITY;
}

static ab_sht *make(ab_tally *t, int L, int nlat, int nlon)
{
    ab_sht *s = NULL;
    ab_error err = {0};
    ab_status st = ab_sht_create(L, nlat, nlon, &s, &err);
    ab_check(t, st == AB_OK && s, "create L=%d nlat=%d nlon=%d: %s", L, nlat, nlon, st == AB_OK ? "ok" : err.msg);
    return st == AB_OK ? s : NULL;
}

/* Grid, weights and points. */
static void check_grid(ab_tally *t, int L, int nlat, int nlon)
{
    ab_sht *s = make(t, L, nlat, nlon);
    if (!s) return;
    const int na = ab_sht_nlat(s), no = ab_sht_nlon(s);
    ab_check(t, na == (nlat ? nlat : L + 1) && no == (nlon ? nlon : 2 * L + 2) && ab_sht_degree(s) == L &&
                    ab_sht_npoints(s) == (size_t)na * no && ab_sht_ncoeffs(s) == (size_t)(L + 1) * (L + 1),
             "L=%d grid %d x %d: sizes", L, na, no);
    long double sum = 0.0L;
    const double *w = ab_sht_weights(s), *x = ab_sht_points(s), *ct = ab_sht_cos_theta(s), *phi = ab_sht_phi(s);
    int ok = 1;
    for (size_t p = 0; p < ab_sht_npoints(s); p++) {
        sum += w[p];
        const double r = sqrt(x[3 * p] * x[3 * p] + x[3 * p + 1] * x[3 * p + 1] + x[3 * p + 2] * x[3 * p + 2]);
        const int i = (int)(p / no), j = (int)(p % no);
        ok &= fabs(r - 1.0) <= 4e-16 && x[3 * p + 2] == ct[i] && fabs(phi[j] - 2.0 * M_PI * j / no) <= 1e-15 &&
              fabs(atan2(x[3 * p + 1], x[3 * p]) - (phi[j] > M_PI ? phi[j] - 2 * M_PI : phi[j])) <= 1e-14 && w[p] > 0.0;
    }
    for (int i = 0; i + 1 < na; i++) ok &= ct[i] < ct[i + 1] && ct[i] == -ct[na - 1 - i];
    ab_check(t, ok, "L=%d grid %d x %d: unit points in order, cos theta ascending and symmetric", L, na, no);
    ab_check(t, fabs((double)(sum - 1.0L)) <= TOL_WEIGHT_SUM, "L=%d grid %d x %d: weights sum to 1 (err %.2e, tol %.0e)", L,
             na, no, (double)(sum - 1.0L), TOL_WEIGHT_SUM);
    ab_sht_destroy(s);
}

/* synthesis -> analysis on random coefficients, analysis -> synthesis on their grid function */
static void check_round_trip(ab_tally *t, int L, int nlat, int nlon)
{
    ab_sht *s = make(t, L, nlat, nlon);
    if (!s) return;
    const size_t nc = ab_sht_ncoeffs(s), np = ab_sht_npoints(s);
    double *c = malloc(nc * sizeof *c), *c2 = malloc(nc * sizeof *c2), *f = malloc(np * sizeof *f),
           *g = malloc(np * sizeof *g);
    for (size_t q = 0; q < nc; q++) c[q] = urand();
    ab_error err = {0};
    int ok = ab_sht_synthesis(s, c, f, &err) == AB_OK && ab_sht_analysis(s, f, c2, &err) == AB_OK;
    double e1 = ok ? rel_l2(c2, c, NULL, nc) : INFINITY, m1 = ok ? max_diff(c, c2, nc) / max_abs(c, nc) : INFINITY;
    ok = ok && ab_sht_synthesis(s, c2, g, &err) == AB_OK;
    const double *w = ab_sht_weights(s);
    double e2 = ok ? rel_l2(g, f, w, np) : INFINITY, m2 = ok ? max_diff(f, g, np) / max_abs(f, np) : INFINITY;
    ab_check(t, e1 <= TOL_ROUND_TRIP && m1 <= TOL_ROUND_TRIP_MAX,
             "L=%d grid %d x %d: synthesis -> analysis rel err %.2e (tol %.0e), max norm %.2e (tol %.0e) %s", L,
             ab_sht_nlat(s), ab_sht_nlon(s), e1, TOL_ROUND_TRIP, m1, TOL_ROUND_TRIP_MAX, err.msg);
    ab_check(t, e2 <= TOL_ROUND_TRIP && m2 <= TOL_ROUND_TRIP_MAX,
             "L=%d grid %d x %d: analysis -> synthesis of a band-limited f rel err %.2e (tol %.0e), max norm %.2e (tol %.0e)",
             L, ab_sht_nlat(s), ab_sht_nlon(s), e2, TOL_ROUND_TRIP, m2, TOL_ROUND_TRIP_MAX);
    free(c); free(c2); free(f); free(g);
    ab_sht_destroy(s);
}

/* analysis of each single synthesized harmonic is the unit vector */
static void check_orthonormal(ab_tally *t, int L, int nlat, int nlon)
{
    ab_sht *s = make(t, L, nlat, nlon);
    if (!s) return;
    const size_t nc = ab_sht_ncoeffs(s), np = ab_sht_npoints(s);
    double *c = calloc(nc, sizeof *c), *c2 = malloc(nc * sizeof *c2), *f = malloc(np * sizeof *f);
    ab_error err = {0};
    double worst = 0.0;
    for (size_t q = 0; q < nc; q++) {
        c[q] = 1.0;
        if (ab_sht_synthesis(s, c, f, &err) != AB_OK || ab_sht_analysis(s, f, c2, &err) != AB_OK) worst = INFINITY;
        worst = fmax(worst, max_diff(c, c2, nc));
        c[q] = 0.0;
    }
    ab_check(t, worst <= TOL_ORTHO, "L=%d grid %d x %d: every harmonic analyses to its unit vector (max err %.2e, tol %.0e)",
             L, ab_sht_nlat(s), ab_sht_nlon(s), worst, TOL_ORTHO);
    free(c); free(c2); free(f);
    ab_sht_destroy(s);
}

/* Y_lm(e) for every (l, m), from GSL's SPHARM array (csphase +1): sqrt(4 pi) for m = 0 and
 * sqrt(8 pi) times cos / sin(|m| phi) otherwise (docs/sphere.md). */
static void harmonics_at(int L, const double e[3], double *y)
{
    double *p = malloc(gsl_sf_legendre_array_n((size_t)L) * sizeof *p);
    const double ph = atan2(e[1], e[0]);
    gsl_sf_legendre_array_e(GSL_SF_LEGENDRE_SPHARM, (size_t)L, e[2], 1.0, p);
    for (int l = 0; l <= L; l++)
        for (int m = 0; m <= l; m++) {
            const double v = p[gsl_sf_legendre_array_index((size_t)l, (size_t)m)];
            if (m == 0) {
                y[ab_sht_index(l, 0)] = sqrt(4.0 * M_PI) * v;
            } else {
                y[ab_sht_index(l, m)] = sqrt(8.0 * M_PI) * v * cos(m * ph);
                y[ab_sht_index(l, -m)] = sqrt(8.0 * M_PI) * v * sin(m * ph);
            }
        }
    free(p);
}

/* e^{b <x, e>} = sum_l (2l+1) i_l(b) P_l(<x, e>) and (2l+1) P_l(<x, e>) = sum_m Y_lm(x) Y_lm(e)
 * (addition theorem for sigma-orthonormal harmonics), so c_lm = i_l(b) Y_lm(e). */
static void check_exp(ab_tally *t, int L, int nlat, int nlon, double b, const double e[3])
{
    ab_sht *s = make(t, L, nlat, nlon);
    if (!s) return;
    const size_t nc = ab_sht_ncoeffs(s), np = ab_sht_npoints(s);
    const double *x = ab_sht_points(s);
    double *f = malloc(np * sizeof *f), *c = malloc(nc * sizeof *c), *want = malloc(nc * sizeof *want);
    for (size_t p = 0; p < np; p++) f[p] = exp(b * (x[3 * p] * e[0] + x[3 * p + 1] * e[1] + x[3 * p + 2] * e[2]));
    harmonics_at(L, e, want);
    for (int l = 0; l <= L; l++)
        for (int m = -l; m <= l; m++) want[ab_sht_index(l, m)] *= exp(b) * gsl_sf_bessel_il_scaled(l, b);
    ab_error err = {0};
    double wrel = 0.0, wabs = 0.0;
    int nrel = 0;
    if (ab_sht_analysis(s, f, c, &err) != AB_OK) wrel = wabs = INFINITY;
    const double cmax = max_abs(want, nc);
    for (size_t q = 0; q < nc; q++) {
        const double d = fabs(c[q] - want[q]);
        wabs = fmax(wabs, isfinite(d) ? d / exp(b) : INFINITY);
        if (fabs(want[q]) >= EXP_REL_FLOOR * cmax) {
            wrel = fmax(wrel, d / fabs(want[q]));
            nrel++;
        }
    }
    ab_check(t, wrel <= TOL_EXP_REL && nrel > 0,
             "exp(%g <x, (%.3f, %.3f, %.3f)>) L=%d grid %d x %d: %d coefficients above %.0e max |c| to rel %.2e (tol %.0e)", b,
             e[0], e[1], e[2], L, ab_sht_nlat(s), ab_sht_nlon(s), nrel, EXP_REL_FLOOR, wrel, TOL_EXP_REL);
    ab_check(t, wabs <= TOL_EXP_ABS, "exp(%g <x, e>) L=%d grid %d x %d: all coefficients to %.2e e^b (tol %.0e)", b, L,
             ab_sht_nlat(s), ab_sht_nlon(s), wabs, TOL_EXP_ABS);
    /* ab_sht_eval at random points (the analysed coefficients) against the function itself */
    enum { NPT = 200 };
    double pts[3 * NPT], fe[NPT], worst = 0.0, fmx = 0.0;
    for (int k = 0; k < NPT; k++) {
        double v[3], r;
        do {
            v[0] = urand(); v[1] = urand(); v[2] = urand();
            r = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
        } while (r < 0.1 || r > 1.0);
        for (int d = 0; d < 3; d++) pts[3 * k + d] = v[d] / r;
    }
    /* the poles and the date line too */
    pts[0] = 0.0; pts[1] = 0.0; pts[2] = 1.0;
    pts[3] = 0.0; pts[4] = 0.0; pts[5] = -1.0;
    pts[6] = -1.0; pts[7] = 0.0; pts[8] = 0.0;
    if (ab_sht_eval(s, c, NPT, pts, fe, &err) != AB_OK) worst = INFINITY;
    for (int k = 0; k < NPT; k++) {
        const double fx = exp(b * (pts[3 * k] * e[0] + pts[3 * k + 1] * e[1] + pts[3 * k + 2] * e[2]));
        worst = fmax(worst, fabs(fe[k] - fx));
        fmx = fmax(fmx, fx);
    }
    ab_check(t, worst / fmx <= TOL_EVAL_POINTS, "exp(%g <x, e>) L=%d: eval at %d random points (poles, date line) rel err %.2e (tol %.0e)",
             b, L, NPT, worst / fmx, TOL_EVAL_POINTS);
    free(f); free(c); free(want);
    ab_sht_destroy(s);
}

/* closed-form test functions of degree <= 5 and their gradients (theta, phi) */
static double fn(int k, double th, double ph, double *dth, double *dph_sin)
{
    const double st = sin(th), ct = cos(th);
    switch (k) {
    case 0: *dth = -st; *dph_sin = 0.0; return ct;                                        /* z */
    case 1: *dth = ct * cos(ph); *dph_sin = -sin(ph); return st * cos(ph);                /* x */
    case 2: *dth = ct * sin(ph); *dph_sin = cos(ph); return st * sin(ph);                 /* y */
    case 3: /* Re (x + i y)^5, a degree-5 harmonic with m = 5 */
        *dth = 5.0 * pow(st, 4) * ct * cos(5 * ph);
        *dph_sin = -5.0 * pow(st, 4) * sin(5 * ph);
        return pow(st, 5) * cos(5 * ph);
    case 4: *dth = -5.0 * pow(ct, 4) * st; *dph_sin = 0.0; return pow(ct, 5);            /* z^5: l = 1, 3, 5 */
    default: /* x y z = sin^2 cos sin(2 phi) / 2: l = 3, m = -2 */
        *dth = 0.5 * (2.0 * st * ct * ct - st * st * st) * sin(2 * ph);
        *dph_sin = st * ct * cos(2 * ph);
        return 0.5 * st * st * ct * sin(2 * ph);
    }
}

static void check_grad(ab_tally *t, int L, int nlat, int nlon)
{
    ab_sht *s = make(t, L, nlat, nlon);
    if (!s) return;
    const size_t nc = ab_sht_ncoeffs(s), np = ab_sht_npoints(s);
    const int no = ab_sht_nlon(s);
    const double *ct = ab_sht_cos_theta(s), *phi = ab_sht_phi(s);
    double *f = malloc(np * sizeof *f), *c = malloc(nc * sizeof *c), *gt = malloc(np * sizeof *gt),
           *gp = malloc(np * sizeof *gp), *wt = malloc(np * sizeof *wt), *wp = malloc(np * sizeof *wp);
    static const char *names[] = {"z", "x", "y", "Re (x+iy)^5", "z^5", "xyz"};
    for (int k = 0; k < 6; k++) {
        for (size_t p = 0; p < np; p++) f[p] = fn(k, acos(ct[p / no]), phi[p % no], &wt[p], &wp[p]);
        ab_error err = {0};
        double e = INFINITY;
        if (ab_sht_analysis(s, f, c, &err) == AB_OK && ab_sht_synthesis_grad(s, c, gt, gp, &err) == AB_OK)
            e = fmax(max_diff(gt, wt, np), max_diff(gp, wp, np)) / fmax(max_abs(wt, np), max_abs(wp, np));
        ab_check(t, e <= TOL_GRAD, "L=%d grid %d x %d: gradient of %s rel err %.2e (tol %.0e) %s", L, ab_sht_nlat(s), no,
                 names[k], e, TOL_GRAD, err.msg);
    }
    /* x = Y_11 / sqrt 3, y = Y_1,-1 / sqrt 3, z = Y_10 / sqrt 3: the sign conventions */
    if (L >= 1) {
        for (size_t q = 0; q < nc; q++) c[q] = 0.0;
        c[ab_sht_index(1, 1)] = 1.0 / sqrt(3.0);
        c[ab_sht_index(1, -1)] = 2.0 / sqrt(3.0);
        c[ab_sht_index(1, 0)] = 3.0 / sqrt(3.0);
        ab_error err = {0};
        double e = INFINITY;
        const double *x = ab_sht_points(s);
        if (ab_sht_synthesis(s, c, f, &err) == AB_OK) {
            e = 0.0;
            for (size_t p = 0; p < np; p++) e = fmax(e, fabs(f[p] - (x[3 * p] + 2.0 * x[3 * p + 1] + 3.0 * x[3 * p + 2])));
        }
        ab_check(t, e <= 1e-15 * 8, "L=%d: Y_11, Y_1-1, Y_10 are sqrt 3 (x, y, z): err %.2e (tol 8e-15)", L, e);
    }
    free(f); free(c); free(gt); free(gp); free(wt); free(wp);
    ab_sht_destroy(s);
}

/* ab_sht_synthesis_grad against differences of ab_sht_eval, and ab_sht_eval at the grid
 * points against ab_sht_synthesis, for random coefficients */
static void check_eval_grid(ab_tally *t, int L, int nlat, int nlon, int with_fd, double tol)
{
    ab_sht *s = make(t, L, nlat, nlon);
    if (!s) return;
    const size_t nc = ab_sht_ncoeffs(s), np = ab_sht_npoints(s);
    const int no = ab_sht_nlon(s);
    double *c = malloc(nc * sizeof *c), *f = malloc(np * sizeof *f), *fe = malloc(np * sizeof *fe),
           *gt = malloc(np * sizeof *gt), *gp = malloc(np * sizeof *gp);
    for (size_t q = 0; q < nc; q++) c[q] = urand();
    ab_error err = {0};
    double e = INFINITY;
    if (ab_sht_synthesis(s, c, f, &err) == AB_OK && ab_sht_eval(s, c, np, ab_sht_points(s), fe, &err) == AB_OK)
        e = max_diff(f, fe, np) / max_abs(f, np);
    ab_check(t, e <= tol, "L=%d grid %d x %d: eval at the grid points = synthesis, rel err %.2e (tol %.0e) %s", L,
             ab_sht_nlat(s), no, e, tol, err.msg);
    if (with_fd && ab_sht_synthesis_grad(s, c, gt, gp, &err) == AB_OK) {
        const double *ct = ab_sht_cos_theta(s), *phi = ab_sht_phi(s);
        double worst = 0.0, gmax = fmax(max_abs(gt, np), max_abs(gp, np));
        for (size_t p = 0; p < np; p++) {
            const double th = acos(ct[p / no]), ph = phi[p % no];
            double pts[24], v[8];
            static const double off[4] = {-2.0, -1.0, 1.0, 2.0};
            for (int k = 0; k < 4; k++) {
                const double a = th + off[k] * FD_STEP, b = ph + off[k] * FD_STEP;
                pts[3 * k] = sin(a) * cos(ph); pts[3 * k + 1] = sin(a) * sin(ph); pts[3 * k + 2] = cos(a);
                pts[12 + 3 * k] = sin(th) * cos(b); pts[12 + 3 * k + 1] = sin(th) * sin(b); pts[12 + 3 * k + 2] = cos(th);
            }
            if (ab_sht_eval(s, c, 8, pts, v, &err) != AB_OK) { worst = INFINITY; break; }
            const double dth = (v[0] - 8.0 * v[1] + 8.0 * v[2] - v[3]) / (12.0 * FD_STEP);
            const double dph = (v[4] - 8.0 * v[5] + 8.0 * v[6] - v[7]) / (12.0 * FD_STEP) / sin(th);
            worst = fmax(worst, fmax(fabs(dth - gt[p]), fabs(dph - gp[p])));
        }
        ab_check(t, worst / gmax <= TOL_GRAD_FD,
                 "L=%d grid %d x %d: gradient = differences of eval, rel err %.2e (tol %.0e)", L, ab_sht_nlat(s), no,
                 worst / gmax, TOL_GRAD_FD);
    }
    free(c); free(f); free(fe); free(gt); free(gp);
    ab_sht_destroy(s);
}

static void check_bad_args(ab_tally *t)
{
    static const int cases[][3] = {{-1, 0, 0}, {4, 4, 0}, {4, 0, 8}, {4, 5, 7}, {3, -1, 8}, {100000, 0, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ab_sht *s = (ab_sht *)&rng_state; /* must be reset to NULL */
        ab_error err = {0};
        ab_status st = ab_sht_create(cases[k][0], cases[k][1], cases[k][2], &s, &err);
        ab_check(t, st == AB_EINVAL && s == NULL && err.code == AB_EINVAL && strstr(err.msg, "spherical harmonic"),
                 "create L=%d nlat=%d nlon=%d is refused: %s", cases[k][0], cases[k][1], cases[k][2], err.msg);
    }
}

/* ab_sht_eval at the grid points of the two latitudes nearest each pole against synthesis at
 * a high degree: there half an ulp of cos theta is a shift of theta by ~1e-16 / sin theta,
 * so eval must take a grid latitude's cos theta for its long-double node (docs/sphere.md,
 * "Transforms"). */
static void check_eval_poles(ab_tally *t, int L)
{
    ab_sht *s = make(t, L, 0, 0);
    if (!s) return;
    const size_t nc = ab_sht_ncoeffs(s), np = ab_sht_npoints(s);
    const int na = ab_sht_nlat(s), no = ab_sht_nlon(s);
    double *c = malloc(nc * sizeof *c), *f = malloc(np * sizeof *f), *fe = malloc(4 * (size_t)no * sizeof *fe);
    for (size_t q = 0; q < nc; q++) c[q] = urand();
    ab_error err = {0};
    double e = INFINITY;
    const int rows[4] = {0, 1, na - 2, na - 1};
    if (ab_sht_synthesis(s, c, f, &err) == AB_OK) {
        e = 0.0;
        for (int r = 0; r < 4; r++) {
            const size_t p0 = (size_t)rows[r] * no;
            if (ab_sht_eval(s, c, (size_t)no, ab_sht_points(s) + 3 * p0, fe, &err) != AB_OK) e = INFINITY;
            else e = fmax(e, max_diff(fe, f + p0, (size_t)no));
        }
        e /= max_abs(f, np);
    }
    ab_check(t, e <= TOL_EVAL_POLES, "L=%d grid %d x %d: eval at the grid points nearest the poles = synthesis, rel err %.2e (tol %.0e) %s",
             L, na, no, e, TOL_EVAL_POLES, err.msg);
    free(c); free(f); free(fe);
    ab_sht_destroy(s);
}

/* Single harmonics near the poles and at high order against 60-digit mpmath values of
 * sqrt(4 pi) SPHARM (sqrt(8 pi) cos / sin (|m| phi) for m != 0) recorded here: where GSL's
 * arrays are off by up to 1.2e-13 (docs/sphere.md, "Transforms"). */
static void check_mpmath_values(ab_tally *t)
{
    static const struct {
        int l, m;
        double ct, phi, want;
    } v[] = {
        {128, 0, 0.99995877937537336, 0.0, 11.022451748830185394},
        {114, 2, 0.99909896620468153, 0.0, 2.032254954436856481},
        {128, -5, -0.9999, 0.3, -0.10146183053130749967},
        {97, 40, 0.3, -2.0, -0.18127276430843589682},
        {128, 128, 0.01, 1.0, -3.4839174861063346357},
    };
    ab_sht *s = make(t, 128, 0, 0);
    if (!s) return;
    double *c = calloc(ab_sht_ncoeffs(s), sizeof *c);
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        const double st = sqrt((1.0 - v[k].ct) * (1.0 + v[k].ct));
        const double x[3] = {st * cos(v[k].phi), st * sin(v[k].phi), v[k].ct};
        double got = NAN;
        ab_error err = {0};
        c[ab_sht_index(v[k].l, v[k].m)] = 1.0;
        ab_sht_eval(s, c, 1, x, &got, &err);
        c[ab_sht_index(v[k].l, v[k].m)] = 0.0;
        char what[96];
        snprintf(what, sizeof what, "Y_%d,%d at cos theta = %.17g, phi = %g (mpmath)", v[k].l, v[k].m, v[k].ct, v[k].phi);
        ab_check_rel(t, got, v[k].want, TOL_MPMATH, 0.0, what);
    }
    free(c);
    ab_sht_destroy(s);
}

/* bad input to the transforms of a valid handle */
static void check_bad_input(ab_tally *t)
{
    ab_sht *s = make(t, 4, 0, 0);
    if (!s) return;
    double c[25] = {0}, f[50] = {0}, x[6] = {0.0, 0.0, 1.0, 0.0, 0.6, 0.9}, v[2];
    ab_error err = {0};
    ab_status st = ab_sht_eval(s, c, 2, x, v, &err);
    ab_check(t, st == AB_EINVAL && strstr(err.msg, "point 1") && strstr(err.msg, "unit vector"),
             "eval at a non-unit vector is refused: %s", err.msg);
    f[7] = NAN;
    err = (ab_error){0};
    st = ab_sht_analysis(s, f, c, &err);
    ab_check(t, st == AB_ENAN && strstr(err.msg, "[7]"), "analysis of a NaN is refused: %s", err.msg);
    c[3] = INFINITY;
    err = (ab_error){0};
    st = ab_sht_synthesis(s, c, f, &err);
    ab_check(t, st == AB_ENAN && strstr(err.msg, "[3]"), "synthesis of an Inf is refused: %s", err.msg);
    ab_sht_destroy(s);
}

int main(void)
{
    ab_tally t = {0};
    ab_init();
    check_bad_args(&t);
    check_bad_input(&t);
    check_mpmath_values(&t);
    check_eval_poles(&t, 128);
    check_grid(&t, 0, 0, 0);
    check_grid(&t, 7, 0, 15);
    check_grid(&t, 128, 0, 0);
    check_grid(&t, 399, 400, 0);
    static const int Ls[] = {0, 1, 7, 32, 64, 128};
    for (size_t k = 0; k < sizeof Ls / sizeof Ls[0]; k++) {
        const int L = Ls[k];
        check_round_trip(&t, L, 0, 0);                          /* smallest, nlon even */
        check_round_trip(&t, L, L + 1, 2 * L + 1);              /* nlon odd, m = L just below Nyquist */
        check_round_trip(&t, L, 3 * (L + 1) / 2, 3 * L + 1);    /* the spectrum's 3/2 oversampling */
        check_round_trip(&t, L, 2 * L + 3, 4 * L + 4);          /* finer still, nlat odd and even */
    }
    check_orthonormal(&t, 12, 0, 0);
    check_orthonormal(&t, 12, 13, 25);
    check_orthonormal(&t, 12, 20, 38);
    const double pole[3] = {0.0, 0.0, 1.0}, tilted[3] = {0.48, -0.6, 0.64};
    check_exp(&t, 32, 0, 0, 4.0, pole);
    check_exp(&t, 32, 0, 0, 4.0, tilted);
    check_exp(&t, 48, 60, 97, 4.0, tilted);
    check_exp(&t, 64, 0, 0, 20.0, tilted);
    check_exp(&t, 64, 97, 193, 20.0, tilted);
    check_grad(&t, 5, 0, 0);
    check_grad(&t, 5, 7, 11);
    check_grad(&t, 16, 25, 49);
    check_eval_grid(&t, 8, 0, 0, 1, TOL_EVAL_GRID);
    check_eval_grid(&t, 8, 12, 17, 1, TOL_EVAL_GRID);
    check_eval_grid(&t, 16, 0, 0, 0, TOL_EVAL_GRID);
    check_eval_grid(&t, 16, 25, 33, 0, TOL_EVAL_GRID);
    check_eval_grid(&t, 32, 0, 0, 0, TOL_EVAL_GRID_32);
    check_eval_grid(&t, 32, 49, 97, 0, TOL_EVAL_GRID_32);
    return ab_finish(&t);
}

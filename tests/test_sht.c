/* Spherical harmonic transforms (src/disc/sht.h, docs/sphere.md "Transforms"): round trips,
 * orthonormality, analytic coefficients of exp(b <x, e>), gradients, point evaluation, bad
 * arguments. Tolerances are in docs/testing.md. */
#include "disc/sht.h"
#include "testutil.h"

#include <gsl/gsl_math.h> /* M_PI (not in strict C11) */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Round trips, in the L2(sigma) norm (coefficients: Euclidean norm): rounding, growing
 * like L (1e-14 measured at L = 128). */
#define TOL_ROUND_TRIP 1e-13
/* ... and in the max norm (largest error over the largest value): near the poles the
 * rounding of the nodes cos theta_i (half an ulp is a shift of theta by ~1e-16 / sin theta)
 * gives the low orders errors up to 2e-13 at L = 128 (docs/sphere.md, "Transforms"). */
#define TOL_ROUND_TRIP_MAX 1e-12
#define TOL_ORTHO 1e-14
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

int main(void)
{
    ab_tally t = {0};
    ab_init();
    check_bad_args(&t);
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
    return ab_finish(&t);
}

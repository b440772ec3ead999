/* Spherical harmonic transforms (docs/sphere.md, "Transforms"): Legendre sums over tables of
 * normalised associated Legendre functions (long-double recurrence), FFTW along latitudes. */
#include "disc/sht.h"

#include "disc/jacobi.h"

#include <fftw3.h>
#include <gsl/gsl_math.h> /* M_PI (not in strict C11) */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Largest degree: the range over which the Legendre values were checked against 60-digit
 * mpmath values near the poles, and where the tables (2 x ceil(nlat/2) x (L+1)(L+2)/2
 * doubles) reach 540 MB (docs/sphere.md, "Transforms"). */
#define AB_SHT_MAX_DEGREE 512
/* Largest grid: FFTW's planner takes int sizes, and nlat * (nlon / 2 + 1) complex values
 * must be addressable by it. */
#define AB_SHT_MAX_POINTS (INT_MAX / 4)
/* ab_sht_eval takes points whose length is 1 within this (it then divides by the length):
 * a larger deviation means the caller passed something other than a direction
 * (docs/sphere.md, "Transforms"). */
#define AB_SHT_UNIT_TOL 1e-8
/* ... and uses them as given (without dividing by the length) when it is 1 to rounding. */
#define AB_SHT_UNIT_ROUNDING (4.0 * DBL_EPSILON)
/* The Legendre recurrence rescales q_mm only this close to the bottom of long double's range
 * (reached only where long double is double; see legendre_q). */
#define AB_SHT_RESCALE_BELOW (LDBL_MIN * 0x1p+256L)
/* Newton steps refining the double Gauss nodes in long double (quadratic convergence from
 * double accuracy: one reaches long double's rounding, the second confirms). */
#define AB_SHT_NODE_NEWTON_STEPS 2

struct ab_sht {
    int L, nlat, nlon;
    int nh;        /* latitude pairs (theta, pi - theta): (nlat + 1) / 2 */
    int nfreq;     /* nlon / 2 + 1 complex values per latitude */
    size_t ntab;   /* (L + 1)(L + 2) / 2 values of (l, m), m >= 0, per latitude */
    size_t npoints, ncoeffs;
    double *w, *pts, *ct, *phi;
    long double *xnode; /* the Gauss nodes to long-double accuracy (ct holds their roundings) */
    double *wlat;  /* Gauss weight of latitude i for sigma divided by nlon */
    double *sint;  /* sin theta_i */
    /* Tables at the nh latitudes with cos theta >= 0, in m-major order (offset moff[m], then
     * l = m..L), of Ybar_lm(theta) = sqrt(4 pi) (sqrt 2 if m > 0) x GSL's SPHARM value, and of
     * its theta derivative; the other hemisphere follows from the parity (-1)^(l+m). */
    double *plm, *dplm;
    size_t *moff;
    /* Recurrence coefficients a_lm (m-major like the tables) and sqrt((l - m)(l + m + 1)) for
     * the derivative, computed once. */
    long double *alm, *blm; /* a_lm and a_lm / a_{l-1,m} */
    double *up;
    /* Workspace: coefficients in m-major order (cos and sin parts), one latitude's q_lm
     * (ab_sht_eval) and the FFT buffers the plans were made on. */
    double *ca, *sa, *qbuf;
    double *rbuf;
    fftw_complex *cbuf;
    fftw_plan fwd, bwd;
};

int ab_sht_degree(const ab_sht *sht) { return sht->L; }
int ab_sht_nlat(const ab_sht *sht) { return sht->nlat; }
int ab_sht_nlon(const ab_sht *sht) { return sht->nlon; }
size_t ab_sht_npoints(const ab_sht *sht) { return sht->npoints; }
size_t ab_sht_ncoeffs(const ab_sht *sht) { return sht->ncoeffs; }
const double *ab_sht_weights(const ab_sht *sht) { return sht->w; }
const double *ab_sht_points(const ab_sht *sht) { return sht->pts; }
const double *ab_sht_cos_theta(const ab_sht *sht) { return sht->ct; }
const double *ab_sht_phi(const ab_sht *sht) { return sht->phi; }

void ab_sht_destroy(ab_sht *sht)
{
    if (!sht) return;
    /* FFTW's planner is process-wide state: plans are made and destroyed one at a time. */
#pragma omp critical(ab_fftw_planner)
    {
        if (sht->fwd) fftw_destroy_plan(sht->fwd);
        if (sht->bwd) fftw_destroy_plan(sht->bwd);
    }
    fftw_free(sht->rbuf);
    fftw_free(sht->cbuf);
    free(sht->w); free(sht->pts); free(sht->ct); free(sht->phi); free(sht->wlat); free(sht->sint); free(sht->xnode);
    free(sht->plm); free(sht->dplm); free(sht->moff); free(sht->alm); free(sht->blm); free(sht->up);
    free(sht->ca); free(sht->sa); free(sht->qbuf);
    free(sht);
}

/* P_n(x) and P_n'(x) (Legendre, P_n(1) = 1) in long double by the three-term recurrence. */
static long double legendre_pn(int n, long double x, long double *dp)
{
    long double p0 = 1.0L, p1 = x;
    for (int k = 2; k <= n; k++) {
        const long double p2 = ((2.0L * k - 1.0L) * x * p1 - (k - 1.0L) * p0) / k;
        p0 = p1;
        p1 = p2;
    }
    *dp = n * (p0 - x * p1) / ((1.0L - x) * (1.0L + x));
    return p1;
}

/* Gauss-Legendre nodes and sigma-weights. The project's Golub-Welsch rule (disc/jacobi.h,
 * alpha = 0) gives the nodes to double accuracy; Newton in long double refines them, and
 * the tables and weights are taken at the refined nodes: the quadrature of q_l0 q_l'0 with
 * nodes rounded to double misses by up to 1e-14 at L = 128 (slopes ~ l^2 near the poles),
 * with the refined ones by rounding only (docs/sphere.md, "Transforms"). GSL's glfixed
 * tables are not used: for orders it does not store (e.g. 129, 400) their weights sum to 1
 * only to 3e-11 .. 2e-10. */
static ab_status build_grid(ab_sht *s, ab_error *err)
{
    ab_status st = ab_gauss_jacobi(0.0, s->nlat, 0.5, s->ct, NULL, NULL, err);
    if (st != AB_OK) return st;
    const int n = s->nlat;
    for (int i = n / 2; i < n; i++) {
        /* the upper half; the lower one by exact symmetry */
        long double x = s->ct[i], dp;
        if (2 * i + 1 != n) /* the middle node of odd n is 0 exactly */
            for (int it = 0; it < AB_SHT_NODE_NEWTON_STEPS; it++) x -= legendre_pn(n, x, &dp) / dp;
        legendre_pn(n, x, &dp);
        /* Gauss-Legendre weight 2 / ((1 - x^2) P_n'^2), halved for sigma */
        const long double w = 1.0L / ((1.0L - x) * (1.0L + x) * dp * dp);
        s->xnode[i] = x;
        s->xnode[n - 1 - i] = -x;
        s->ct[i] = (double)x;
        s->ct[n - 1 - i] = -(double)x;
        s->wlat[i] = s->wlat[n - 1 - i] = (double)(w / s->nlon);
    }
    for (int j = 0; j < s->nlon; j++) s->phi[j] = 2.0 * M_PI * j / s->nlon;
    for (int i = 0; i < s->nlat; i++) {
        const double x = s->ct[i];
        s->sint[i] = (double)sqrtl((1.0L - s->xnode[i]) * (1.0L + s->xnode[i]));
        for (int j = 0; j < s->nlon; j++) {
            const size_t p = (size_t)i * s->nlon + j;
            s->w[p] = s->wlat[i];
            s->pts[3 * p] = s->sint[i] * cos(s->phi[j]);
            s->pts[3 * p + 1] = s->sint[i] * sin(s->phi[j]);
            s->pts[3 * p + 2] = x;
        }
    }
    return AB_OK;
}

/* q_lm(x) = sqrt(4 pi) x GSL's SPHARM value (csphase +1; the real harmonics of
 * docs/sphere.md are q_l0 and sqrt 2 q_lm cos, sin (m phi)), l = m..L for every m, into
 * q (m-major, offsets moff), by the normalised three-term recurrence in l,
 *   q_mm = prod_{k<=m} sqrt((2k+1)/(2k)) sin^m theta,  q_{m+1,m} = sqrt(2m+3) x q_mm,
 *   q_lm = a_lm x q_{l-1,m} - (a_lm / a_{l-1,m}) q_{l-2,m},  a_lm = sqrt((4l^2-1)/(l^2-m^2)),
 * in long double. GSL's own arrays lose up to ~1e3 ulps near the poles; this recurrence
 * does not (docs/sphere.md, "Transforms"). With x87 or quad long double, q_mm >= sin^L theta
 * stays far above the bottom of the range at every grid node (and wherever it underflows,
 * every q_lm of that order is below double's range too); only where long double is double
 * is q_mm carried as mantissa and binary exponent once it nears the bottom. */
static void legendre_q(const ab_sht *s, long double x, double *q)
{
    const int L = s->L;
    const long double xl = x, sn = sqrtl((1.0L - xl) * (1.0L + xl));
    long double pmm = 1.0L;
    int e = 0;
    for (int m = 0; m <= L; m++) {
        if (m > 0) {
            pmm *= sqrtl((2.0L * m + 1.0L) / (2.0L * m)) * sn;
            if (pmm < AB_SHT_RESCALE_BELOW && pmm > 0.0L) {
                int k;
                pmm = frexpl(pmm, &k);
                e += k;
            }
        }
        const long double *a = s->alm + s->moff[m], *b = s->blm + s->moff[m];
        double *out = q + s->moff[m];
        long double prev = 0.0L, cur = pmm;
        out[0] = (double)(e ? ldexpl(cur, e) : cur);
        for (int l = m + 1; l <= L; l++) {
            const long double next = a[l - m] * xl * cur - b[l - m] * prev;
            prev = cur;
            cur = next;
            out[l - m] = (double)(e ? ldexpl(cur, e) : cur);
        }
    }
}

/* d q_lm / d theta from the neighbouring orders (no division by sin theta, so accurate at
 * every latitude; without the Condon-Shortley phase, d q_11 / d theta = +sqrt(3/2) cos theta):
 * -sqrt(l(l+1)) q_l1 for m = 0, and
 * (sqrt((l+m)(l-m+1)) q_{l,m-1} - sqrt((l-m)(l+m+1)) q_{l,m+1}) / 2 for m >= 1. */
static void legendre_dq(const ab_sht *s, const double *q, double *dq)
{
    const int L = s->L;
    for (int m = 0; m <= L; m++)
        for (int l = m; l <= L; l++) {
            const size_t at = s->moff[m] + (size_t)(l - m);
            const double hi = l > m ? s->up[at] * q[s->moff[m + 1] + (size_t)(l - m - 1)] : 0.0;
            if (m == 0) {
                dq[at] = -hi;
            } else {
                const double lo = s->up[s->moff[m - 1] + (size_t)(l - m + 1)] * q[s->moff[m - 1] + (size_t)(l - m + 1)];
                dq[at] = 0.5 * (lo - hi);
            }
        }
}

static ab_status build_tables(ab_sht *s, ab_error *err)
{
    const int L = s->L;
    for (int m = 0, off = 0; m <= L; m++) {
        s->moff[m] = (size_t)off;
        off += L + 1 - m;
    }
    for (int m = 0; m <= L; m++)
        for (int l = m; l <= L; l++) {
            const size_t at = s->moff[m] + (size_t)(l - m);
            const long double ll = l, mm = m;
            s->alm[at] = l > m ? sqrtl((4.0L * ll * ll - 1.0L) / (ll * ll - mm * mm)) : 1.0L;
            /* b_{m+1,m} = 0: q_{m-1,m} does not exist */
            s->blm[at] = l > m + 1 ? s->alm[at] / s->alm[at - 1] : 0.0L;
            s->up[at] = sqrt((double)(l - m) * (double)(l + m + 1));
        }
    for (int k = 0; k < s->nh; k++) {
        const int i = s->nlat - 1 - k; /* cos theta_i >= 0 */
        double *p = s->plm + (size_t)k * s->ntab, *dp = s->dplm + (size_t)k * s->ntab;
        legendre_q(s, s->xnode[i], p);
        legendre_dq(s, p, dp);
        for (int m = 1; m <= L; m++)
            for (size_t q = s->moff[m]; q < s->moff[m] + (size_t)(L + 1 - m); q++) {
                p[q] *= M_SQRT2;
                dp[q] *= M_SQRT2;
            }
    }
    for (size_t q = 0; q < (size_t)s->nh * s->ntab; q++)
        if (!isfinite(s->plm[q]) || !isfinite(s->dplm[q]))
            return ab_error_set(err, AB_ENAN, "spherical harmonic tables: a non-finite Legendre value at degree %d", L);
    return AB_OK;
}

ab_status ab_sht_create(int L, int nlat, int nlon, ab_sht **out, ab_error *err)
{
    *out = NULL;
    if (L < 0 || L > AB_SHT_MAX_DEGREE)
        return ab_error_set(err, AB_EINVAL, "spherical harmonic transform: degree L = %d is outside 0..%d", L,
                            AB_SHT_MAX_DEGREE);
    if (nlat == 0) nlat = L + 1;
    if (nlon == 0) nlon = 2 * L + 2;
    if (nlat < L + 1)
        return ab_error_set(err, AB_EINVAL,
                            "spherical harmonic transform of degree %d: nlat = %d latitudes, need at least L + 1 = %d",
                            L, nlat, L + 1);
    /* m <= L must stay below the Nyquist frequency nlon / 2 (docs/sphere.md, "Transforms") */
    if (nlon < 2 * L + 1)
        return ab_error_set(err, AB_EINVAL,
                            "spherical harmonic transform of degree %d: nlon = %d longitudes, need at least 2 L + 1 = %d",
                            L, nlon, 2 * L + 1);
    if ((double)nlat * (double)(nlon + 2) > (double)AB_SHT_MAX_POINTS)
        return ab_error_set(err, AB_EINVAL, "spherical harmonic transform: grid %d x %d has more than %d points", nlat,
                            nlon, AB_SHT_MAX_POINTS);
    ab_sht *s = calloc(1, sizeof *s);
    if (!s) return ab_error_set(err, AB_ENOMEM, "out of memory for a spherical harmonic transform");
    s->L = L;
    s->nlat = nlat;
    s->nlon = nlon;
    s->nh = (nlat + 1) / 2;
    s->nfreq = nlon / 2 + 1;
    s->ntab = (size_t)(L + 1) * (size_t)(L + 2) / 2;
    s->npoints = (size_t)nlat * (size_t)nlon;
    s->ncoeffs = (size_t)(L + 1) * (size_t)(L + 1);
    s->w = malloc(s->npoints * sizeof *s->w);
    s->pts = malloc(3 * s->npoints * sizeof *s->pts);
    s->ct = malloc((size_t)nlat * sizeof *s->ct);
    s->phi = malloc((size_t)nlon * sizeof *s->phi);
    s->wlat = malloc((size_t)nlat * sizeof *s->wlat);
    s->xnode = malloc((size_t)nlat * sizeof *s->xnode);
    s->sint = malloc((size_t)nlat * sizeof *s->sint);
    s->plm = malloc((size_t)s->nh * s->ntab * sizeof *s->plm);
    s->dplm = malloc((size_t)s->nh * s->ntab * sizeof *s->dplm);
    s->moff = malloc((size_t)(L + 1) * sizeof *s->moff);
    s->ca = malloc(s->ntab * sizeof *s->ca);
    s->sa = malloc(s->ntab * sizeof *s->sa);
    s->qbuf = malloc(s->ntab * sizeof *s->qbuf);
    s->alm = malloc(s->ntab * sizeof *s->alm);
    s->blm = malloc(s->ntab * sizeof *s->blm);
    s->up = malloc(s->ntab * sizeof *s->up);
    s->rbuf = fftw_alloc_real(s->npoints);
    s->cbuf = fftw_alloc_complex((size_t)nlat * (size_t)s->nfreq);
    if (!s->w || !s->pts || !s->ct || !s->phi || !s->wlat || !s->xnode || !s->sint || !s->plm || !s->dplm || !s->moff || !s->ca ||
        !s->sa || !s->qbuf || !s->alm || !s->blm || !s->up || !s->rbuf || !s->cbuf) {
        ab_sht_destroy(s);
        return ab_error_set(err, AB_ENOMEM, "out of memory for a spherical harmonic transform (degree %d, grid %d x %d)",
                            L, nlat, nlon);
    }
    ab_status st = build_grid(s, err);
    if (st == AB_OK) st = build_tables(s, err);
    if (st != AB_OK) {
        ab_sht_destroy(s);
        return st;
    }
    /* One plan for all latitudes each way; FFTW_ESTIMATE keeps create quick and its result
     * independent of timing (deterministic output). */
    int n[1] = {nlon};
#pragma omp critical(ab_fftw_planner)
    {
        s->fwd = fftw_plan_many_dft_r2c(1, n, nlat, s->rbuf, NULL, 1, nlon, s->cbuf, NULL, 1, s->nfreq, FFTW_ESTIMATE);
        s->bwd = fftw_plan_many_dft_c2r(1, n, nlat, s->cbuf, NULL, 1, s->nfreq, s->rbuf, NULL, 1, nlon, FFTW_ESTIMATE);
    }
    if (!s->fwd || !s->bwd) {
        ab_sht_destroy(s);
        return ab_error_set(err, AB_ENOMEM, "spherical harmonic transform: FFTW could not plan %d x %d", nlat, nlon);
    }
    *out = s;
    return AB_OK;
}

/* coeffs (index l^2 + l + m) into the m-major cos (m >= 0) and sin (m > 0) workspaces. */
static void gather(ab_sht *s, const double *coeffs)
{
    for (int m = 0; m <= s->L; m++) {
        double *a = s->ca + s->moff[m], *b = s->sa + s->moff[m];
        for (int l = m; l <= s->L; l++) {
            a[l - m] = coeffs[ab_sht_index(l, m)];
            b[l - m] = m > 0 ? coeffs[ab_sht_index(l, -m)] : 0.0;
        }
    }
}

/* Sums over l of coefficients times tables at latitude pair k, split by the parity of l + m
 * (even part e, odd part o), for the cos (a) and sin (b) coefficients of order m. */
static void parity_sums(const double *tab, const double *a, const double *b, int n, double *ea, double *oa, double *eb,
                        double *ob)
{
    double e1 = 0.0, o1 = 0.0, e2 = 0.0, o2 = 0.0;
    int q = 0;
    for (; q + 1 < n; q += 2) {
        e1 += a[q] * tab[q];
        e2 += b[q] * tab[q];
        o1 += a[q + 1] * tab[q + 1];
        o2 += b[q + 1] * tab[q + 1];
    }
    if (q < n) {
        e1 += a[q] * tab[q];
        e2 += b[q] * tab[q];
    }
    *ea = e1; *oa = o1; *eb = e2; *ob = o2;
}

/* Fourier coefficients of order m at latitude i for the c2r transform: f_j = a_0 +
 * sum_m a_m cos(m phi_j) + b_m sin(m phi_j) needs X_0 = a_0, X_m = (a_m - i b_m) / 2. */
static void put_freq(ab_sht *s, int i, int m, double a, double b)
{
    fftw_complex *X = s->cbuf + (size_t)i * s->nfreq + m;
    if (m == 0) {
        (*X)[0] = a;
        (*X)[1] = 0.0;
    } else {
        (*X)[0] = 0.5 * a;
        (*X)[1] = -0.5 * b;
    }
}

/* The c2r input of cbuf for the function (deriv = 0), its theta derivative (deriv = 1) or
 * (1/sin theta) d/d phi (deriv = 2), from the gathered coefficients. */
static void legendre_synthesis(ab_sht *s, int deriv)
{
    const int L = s->L;
    for (int i = 0; i < s->nlat; i++)
        for (int m = L + 1; m < s->nfreq; m++) s->cbuf[(size_t)i * s->nfreq + m][0] = s->cbuf[(size_t)i * s->nfreq + m][1] = 0.0;
    for (int k = 0; k < s->nh; k++) {
        const int iu = s->nlat - 1 - k, id = k; /* cos theta_id = -cos theta_iu */
        const double *tab = (deriv == 1 ? s->dplm : s->plm) + (size_t)k * s->ntab;
        for (int m = 0; m <= L; m++) {
            double ea, oa, eb, ob;
            parity_sums(tab + s->moff[m], s->ca + s->moff[m], s->sa + s->moff[m], L + 1 - m, &ea, &oa, &eb, &ob);
            /* Ybar(pi - theta) = (-1)^(l+m) Ybar(theta), d/dtheta picks up another sign */
            double au = ea + oa, bu = eb + ob, ad = ea - oa, bd = eb - ob;
            if (deriv == 1) {
                ad = -ad;
                bd = -bd;
            } else if (deriv == 2) {
                /* d/dphi (a cos m phi + b sin m phi) = m b cos m phi - m a sin m phi */
                const double fu = m / s->sint[iu], fd = m / s->sint[id];
                double t = au;
                au = fu * bu;
                bu = -fu * t;
                t = ad;
                ad = fd * bd;
                bd = -fd * t;
            }
            put_freq(s, iu, m, au, bu);
            if (id != iu) put_freq(s, id, m, ad, bd);
        }
    }
}

static ab_status check_finite(const double *v, size_t n, const char *what, ab_error *err)
{
    for (size_t q = 0; q < n; q++)
        if (!isfinite(v[q])) return ab_error_set(err, AB_ENAN, "spherical harmonic transform: %s[%zu] = %g", what, q, v[q]);
    return AB_OK;
}

ab_status ab_sht_synthesis(ab_sht *s, const double *coeffs, double *f, ab_error *err)
{
    ab_status st = check_finite(coeffs, s->ncoeffs, "coefficient", err);
    if (st != AB_OK) return st;
    gather(s, coeffs);
    legendre_synthesis(s, 0);
    fftw_execute(s->bwd);
    memcpy(f, s->rbuf, s->npoints * sizeof *f);
    return AB_OK;
}

ab_status ab_sht_synthesis_grad(ab_sht *s, const double *coeffs, double *dtheta, double *dphi_sin, ab_error *err)
{
    ab_status st = check_finite(coeffs, s->ncoeffs, "coefficient", err);
    if (st != AB_OK) return st;
    gather(s, coeffs);
    legendre_synthesis(s, 1);
    fftw_execute(s->bwd);
    memcpy(dtheta, s->rbuf, s->npoints * sizeof *dtheta);
    legendre_synthesis(s, 2);
    fftw_execute(s->bwd);
    memcpy(dphi_sin, s->rbuf, s->npoints * sizeof *dphi_sin);
    return AB_OK;
}

ab_status ab_sht_analysis(ab_sht *s, const double *f, double *coeffs, ab_error *err)
{
    ab_status st = check_finite(f, s->npoints, "grid value", err);
    if (st != AB_OK) return st;
    const int L = s->L;
    memcpy(s->rbuf, f, s->npoints * sizeof *f);
    fftw_execute(s->fwd);
    memset(s->ca, 0, s->ntab * sizeof *s->ca);
    memset(s->sa, 0, s->ntab * sizeof *s->sa);
    for (int k = 0; k < s->nh; k++) {
        const int iu = s->nlat - 1 - k, id = k;
        const double *tab = s->plm + (size_t)k * s->ntab;
        /* the pair's weights are equal (symmetric rule); the middle latitude counts once */
        const double w = s->wlat[iu], wd = id != iu ? w : 0.0;
        const fftw_complex *Fu = s->cbuf + (size_t)iu * s->nfreq, *Fd = s->cbuf + (size_t)id * s->nfreq;
        for (int m = 0; m <= L; m++) {
            /* sum_j f_j cos(m phi_j) = Re F_m, sum_j f_j sin(m phi_j) = -Im F_m */
            const double cu = w * Fu[m][0], su = -w * Fu[m][1], cd = wd * Fd[m][0], sd = -wd * Fd[m][1];
            const double ce = cu + cd, co = cu - cd, se = su + sd, so = su - sd;
            const double *t = tab + s->moff[m];
            double *a = s->ca + s->moff[m], *b = s->sa + s->moff[m];
            const int n = L + 1 - m;
            int q = 0;
            for (; q + 1 < n; q += 2) {
                a[q] += ce * t[q];
                b[q] += se * t[q];
                a[q + 1] += co * t[q + 1];
                b[q + 1] += so * t[q + 1];
            }
            if (q < n) {
                a[q] += ce * t[q];
                b[q] += se * t[q];
            }
        }
    }
    for (int m = 0; m <= L; m++)
        for (int l = m; l <= L; l++) {
            coeffs[ab_sht_index(l, m)] = s->ca[s->moff[m] + (size_t)(l - m)];
            if (m > 0) coeffs[ab_sht_index(l, -m)] = s->sa[s->moff[m] + (size_t)(l - m)];
        }
    return AB_OK;
}

/* cos theta for the Legendre recurrence at a point with z = cos theta: a grid latitude's
 * cos theta (exactly as ab_sht_cos_theta gives it) stands for its long-double node, so that
 * eval at the grid points reproduces synthesis (docs/sphere.md, "Transforms"). */
static long double node_of(const ab_sht *s, double z)
{
    int lo = 0, hi = s->nlat - 1;
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (s->ct[mid] < z) lo = mid + 1;
        else hi = mid;
    }
    return s->ct[lo] == z ? s->xnode[lo] : (long double)z;
}

ab_status ab_sht_eval(ab_sht *s, const double *coeffs, size_t n, const double *x, double *f, ab_error *err)
{
    ab_status st = check_finite(coeffs, s->ncoeffs, "coefficient", err);
    if (st != AB_OK) return st;
    const int L = s->L;
    for (size_t p = 0; p < n; p++) {
        const double *v = x + 3 * p;
        const double r = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
        if (!(fabs(r - 1.0) <= AB_SHT_UNIT_TOL))
            return ab_error_set(err, AB_EINVAL, "spherical harmonic evaluation: point %zu (%g, %g, %g) is not a unit vector",
                                p, v[0], v[1], v[2]);
        /* a point that is a unit vector to rounding is taken as it is: dividing by its length
         * would move cos theta by an ulp, which near the poles shifts theta by ~1e-16 / sin
         * theta, and eval at the grid points would no longer reproduce synthesis */
        double z = fabs(r - 1.0) <= AB_SHT_UNIT_ROUNDING ? v[2] : v[2] / r;
        if (z > 1.0) z = 1.0;
        if (z < -1.0) z = -1.0;
        const double ph = atan2(v[1], v[0]);
        legendre_q(s, node_of(s, z), s->qbuf);
        double sum = 0.0;
        for (int m = 0; m <= L; m++) {
            const double *q = s->qbuf + s->moff[m];
            double a = 0.0, b = 0.0;
            for (int l = m; l <= L; l++) {
                a += coeffs[ab_sht_index(l, m)] * q[l - m];
                if (m > 0) b += coeffs[ab_sht_index(l, -m)] * q[l - m];
            }
            sum += m == 0 ? a : M_SQRT2 * (a * cos(m * ph) + b * sin(m * ph));
        }
        f[p] = sum;
    }
    return AB_OK;
}

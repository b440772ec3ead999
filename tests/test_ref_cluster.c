/* Checks of the independent 1-cluster reference bench/ref_cluster.c (docs/testing.md, "The
 * 1-cluster reference"): its kernel factor, exact beta = 0 states, the README value,
 * convergence between resolutions and panel layouts, the small-noise law, both coexisting
 * USA clusters, and refusal where no 1-cluster exists. Uses nothing from src/. */
#include "ref_cluster.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>

/* I_{nu+1}(x) / I_nu(x) by the backward recurrence of its continued fraction (Gauss), from
 * a depth far beyond x: no Bessel library involved. */
static double bessel_ratio(double nu, double x)
{
    int depth = (int)(2.0 * x + 4.0 * nu + 200.0);
    double f = 0.0;
    for (int k = depth; k >= 1; k--) f = 1.0 / (2.0 * (nu + k) / x + f);
    return f;
}

/* 1 - I_{nu+1}(x) / I_nu(x), accurate relative to itself: for x large against nu^2 the
 * difference of the two Hankel series term by term, else 1 minus the continued fraction. */
static double one_minus_ratio(double nu, double x)
{
    if (x < 50.0 * nu * nu + 1000.0) return 1.0 - bessel_ratio(nu, x);
    double a = 1.0, b = 1.0, sa = 1.0, sdiff = 0.0, ma = 4.0 * nu * nu, mb = 4.0 * (nu + 1) * (nu + 1);
    for (int k = 1; k < 60; k++) {
        double c = (double)(2 * k - 1) * (2 * k - 1);
        a *= -(ma - c) / (8.0 * k * x);
        b *= -(mb - c) / (8.0 * k * x);
        sa += a;
        sdiff += a - b;
        if (fabs(a) + fabs(b) < 1e-18 * fabs(sdiff)) break;
    }
    return sdiff / sa;
}

/* beta = 0: r solves r = I_{d/2}(r/kappa) / I_{d/2-1}(r/kappa); bisection for 1 - r in log
 * scale (relative accuracy even when 1 - r ~ kappa is tiny). */
static double langevin_omr(int d, double kappa)
{
    double lo = log(1e-300), hi = 0.0;
    for (int it = 0; it < 300; it++) {
        double mid = 0.5 * (lo + hi), omr = exp(mid), r = 1.0 - omr;
        double g = one_minus_ratio(0.5 * d - 1.0, r / kappa) - omr;
        if (g < 0.0) /* 1 - r above the image's: the root has smaller 1 - r */
            hi = mid;
        else
            lo = mid;
    }
    return exp(0.5 * (lo + hi));
}

static void check_log_G(ab_tally *t)
{
    /* series / Hankel against the log-domain quadrature of int e^{zc} w(c) dc */
    const double mus[] = {0.0, 0.5, 1.0, 2.5, 6.5, 30.5, 254.5, 2046.5};
    const double zs[] = {1e-3, 0.5, 4.0, 8.0, 30.0, 39.9, 40.1, 60.0, 300.0, 1000.0};
    double worst = 0.0;
    for (size_t i = 0; i < sizeof mus / sizeof *mus; i++)
        for (size_t j = 0; j < sizeof zs / sizeof *zs; j++) {
            double a = ref_cluster_log_G_scaled(mus[i], zs[j]), b = ref_cluster_log_G_scaled_quad(mus[i], zs[j]);
            double e = fabs(a - b) / fmax(1.0, fabs(b + zs[j]));
            if (!(e <= worst)) worst = e;
        }
    ab_check(t, worst <= 1e-13, "log G_mu(z): series/Hankel vs quadrature, worst %.2e (tol 1e-13 relative to log G)",
             worst);
    /* d = 3: G_0 = I_0 at large z, against the closed Hankel limit; d = 2: cosh */
    double z = 5000.0, want = -0.5 * log(2.0 * 3.14159265358979323846 * z) + log1p(1.0 / (8 * z) + 9.0 / (128 * z * z) + 225.0 / (3072 * z * z * z));
    ab_check_rel(t, ref_cluster_log_G_scaled(0.0, z), want, 1e-12, 1.0, "log(e^{-z} I_0(z)) at z = 5000");
    ab_check_rel(t, ref_cluster_log_G_scaled(-0.5, 3.0), log(cosh(3.0)) - 3.0, 1e-15, 1.0, "d = 2: log cosh z - z");
    /* kappa_1 closed forms at d = 3 */
    const double betas[] = {0.5, 4.0, 50.0, 1000.0};
    for (int k = 0; k < 4; k++) {
        double b = betas[k];
        ab_check_rel(t, ref_cluster_kappa1(0, 3, b), (1.0 / tanh(b) - 1.0 / b) / b, 1e-13, 0.0, "SA kappa_1, d = 3");
        if (b < 100)
            ab_check_rel(t, ref_cluster_kappa1(1, 3, b), (cosh(b) - sinh(b) / b) / (b * b), 1e-13, 0.0,
                         "USA kappa_1, d = 3");
    }
}

static void check_beta0(ab_tally *t)
{
    const double kappas[] = {0.3, 0.1, 0.01, 1e-3, 1e-4};
    const int ds[] = {3, 5, 64};
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 5; k++) {
                int d = ds[i];
                double kappa = kappas[k] / (d / 3.0);
                if (kappa * d >= 1.0) continue; /* no cluster above kappa_1 = 1/d */
                ref_cluster_result o;
                ref_cluster_r(m, d, 0.0, kappa, 0.0, &o);
                double omr = langevin_omr(d, kappa);
                char what[512];
                snprintf(what, sizeof what, "beta = 0 %s d = %d kappa = %g: 1 - r against Langevin (status %d %s)",
                         m ? "USA" : "SA", d, kappa, o.status, o.message);
                ab_check_rel(t, o.one_minus_r, omr, 1e-11, 0.0, what);
                ab_check(t, fabs(o.r - (1.0 - omr)) <= 1e-12, "  r to 1e-12: error %.2e", fabs(o.r - (1.0 - omr)));
            }
}

static void check_known(ab_tally *t)
{
    ref_cluster_result o;
    ref_cluster_r(0, 3, 4.0, 0.1, 0.8, &o);
    ab_check_rel(t, o.r, 0.823163270996536, 1e-12, 1.0, "SA d=3 beta=4 kappa=0.1: r (docs/convergence.md)");
    ab_check_rel(t, o.S, 0.559041493548, 1e-11, 1.0, "  S (README, 12 digits)");
    ab_check(t, o.status == 0 && o.err_r <= 1e-13, "  status %d, two-resolution error %.2e (tol 1e-13)", o.status,
             o.err_r);
    /* values of the main solver (attnbif solve, 128 nodes, summary.json) inside its
     * comfortable window (d <= 16, beta <= 8, kappa >= 0.02) */
    struct {
        int model, d;
        double beta, kappa, r;
    } known[] = {{0, 8, 4.0, 0.05, 0.75698351285877474},
                 {1, 3, 4.0, 0.5, 0.98902985228852336},
                 {0, 16, 8.0, 0.02, 0.80658734325634196},
                 {1, 5, 2.0, 0.1, 0.96632284042923899},
                 {0, 2, 8.0, 0.05, 0.95753393307328871}};
    for (int i = 0; i < 5; i++) {
        char what[128];
        ref_cluster_r(known[i].model, known[i].d, known[i].beta, known[i].kappa, 0.8, &o);
        snprintf(what, sizeof what, "%s d=%d beta=%g kappa=%g: r against the main solver", known[i].model ? "USA" : "SA",
                 known[i].d, known[i].beta, known[i].kappa);
        ab_check_rel(t, o.r, known[i].r, 1e-11, 1.0, what);
    }
}

/* The hard cases: error estimate below 1e-12, an independent layout (every panel halved)
 * agrees to 1e-12, and the r-parameterised branch returns kappa to 1e-12 relative. */
static void check_hard(ab_tally *t)
{
    struct {
        int model, d;
        double beta, kappa, rg;
        const char *name;
    } cs[] = {
        {0, 3, 50.0, 0.01, 0, "SA d=3 beta=50 kappa=0.01"},
        {0, 64, 8.0, -0.5, 0, "SA d=64 beta=8 kappa=kappa_1/2"},
        {0, 3, 4.0, 1e-4, 0, "SA d=3 beta=4 kappa=1e-4"},
        {1, 3, 4.0, 0.005, 0, "USA d=3 beta=4 kappa=0.005"},
        {0, 2, 300.0, -0.5, 0, "SA d=2 beta=300 kappa=kappa_1/2"},
        {0, 512, 8.0, -0.5, 0, "SA d=512 beta=8 kappa=kappa_1/2"},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        double kappa = cs[i].kappa > 0 ? cs[i].kappa : -cs[i].kappa * ref_cluster_kappa1(cs[i].model, cs[i].d, cs[i].beta);
        ref_cluster_result a, b, c;
        ref_cluster_r(cs[i].model, cs[i].d, cs[i].beta, kappa, cs[i].rg, &a);
        ref_cluster_options opt = {1};
        ref_cluster_r_opts(cs[i].model, cs[i].d, cs[i].beta, kappa, cs[i].rg, &opt, &b);
        ab_check(t, a.status == 0 && a.err_r <= 1e-12, "%s: r = %.13f, status %d %s, error estimate %.2e (tol 1e-12)",
                 cs[i].name, a.r, a.status, a.message, a.err_r);
        ab_check(t, b.status == 0 && fabs(a.r - b.r) <= 1e-12, "  every panel halved (%d -> %d points): |dr| = %.2e (tol 1e-12)",
                 a.points, b.points, fabs(a.r - b.r));
        ab_check(t, fabs(a.one_minus_r - b.one_minus_r) <= 1e-10 * a.one_minus_r, "  1 - r relative change %.2e (tol 1e-10)",
                 fabs(a.one_minus_r - b.one_minus_r) / a.one_minus_r);
        ref_cluster_at_r(cs[i].model, cs[i].d, cs[i].beta, a.r, 0.0, &c);
        /* kappa is proportional to 1 - r at small kappa: the rounding of r alone moves it by
         * ~1e-16 / (1 - r) relative */
        ab_check(t, c.status == 0 && fabs(c.kappa - kappa) <= 1e-10 * kappa,
                 "  branch at that r gives kappa = %.15g (want %.15g, rel tol 1e-10)", c.kappa, kappa);
    }
}

static void check_small_kappa(ab_tally *t)
{
    /* SA: (1 - r)/kappa -> (d - 1)/2 independent of beta, with an O(kappa) correction;
     * USA: -> (d - 1) e^{-beta} / 2 (Phi'(1) = e^beta for a point cluster). */
    struct {
        int model, d;
        double beta, c;
    } cs[] = {{0, 3, 4.0, 1.0}, {0, 8, 1.0, 3.5}, {1, 3, 4.0, exp(-4.0)}};
    for (int i = 0; i < 3; i++) {
        double k1 = ref_cluster_kappa1(cs[i].model, cs[i].d, cs[i].beta), prev = INFINITY;
        int monotone = 1;
        double last = NAN;
        for (double f = 1e-1; f >= 0.9e-3; f /= 10) {
            ref_cluster_result o;
            ref_cluster_r(cs[i].model, cs[i].d, cs[i].beta, f * k1, 0, &o);
            double dev = fabs(o.one_minus_r / (f * k1) / cs[i].c - 1.0);
            if (!(dev < prev)) monotone = 0;
            prev = dev;
            last = dev;
        }
        ab_check(t, monotone && last <= 2e-3,
                 "small-kappa law model %d d=%d beta=%g: |(1-r)/(c kappa) - 1| decreasing, %.2e at 1e-3 kappa_1 (tol 2e-3)",
                 cs[i].model, cs[i].d, cs[i].beta, last);
    }
}

static void check_usa_pair_and_refusals(ab_tally *t)
{
    ref_cluster_result lo, hi, o;
    ref_cluster_r(1, 3, 4.0, 1.5, 0.3, &lo);
    ref_cluster_r(1, 3, 4.0, 1.5, 0.9, &hi);
    ab_check(t, lo.status == 0 && hi.status == 0 && hi.r - lo.r > 0.3 && lo.err_r <= 1e-12 && hi.err_r <= 1e-12,
             "USA d=3 beta=4 kappa=1.5: two clusters r = %.12f and %.12f (errors %.1e, %.1e)", lo.r, hi.r, lo.err_r,
             hi.err_r);
    ab_check_rel(t, hi.r, 0.888, 5e-4, 1.0, "  the stable one is the r = 0.888 of issue 7");
    /* kappa above kappa_1 of a supercritical branch: no 1-cluster, must not return one */
    ref_cluster_r(0, 3, 1000.0, 1e-3, 0.9, &o);
    ab_check(t, o.status != 0, "SA d=3 beta=1000 kappa=1e-3 > kappa_1: refused (status %d: %s)", o.status, o.message);
    ref_cluster_r(0, 2, 300.0, 0.01, 0, &o);
    ab_check(t, o.status != 0, "SA d=2 beta=300 kappa=0.01 > kappa_1: refused (status %d: %s)", o.status, o.message);
    ref_cluster_r(0, 1, 4.0, 0.1, 0, &o);
    ab_check(t, o.status == 1, "d = 1 refused: %s", o.message);
    ref_cluster_r(0, 3, 4.0, 0.0, 0, &o);
    ab_check(t, o.status == 1, "kappa = 0 refused: %s", o.message);
    ref_cluster_r(2, 3, 4.0, 0.1, 0, &o);
    ab_check(t, o.status == 1, "model 2 refused: %s", o.message);
}

int main(void)
{
    ab_tally t = {0, 0};
    check_log_G(&t);
    check_beta0(&t);
    check_known(&t);
    check_hard(&t);
    check_small_kappa(&t);
    check_usa_pair_and_refusals(&t);
    return ab_finish(&t);
}

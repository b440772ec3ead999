/* Von Mises-Fisher concentrations for cluster guesses (docs/theory.md, "Stationary states"). */
#include "disc/vmf.h"

#include "attnbif/model.h"

#include <math.h>

double ab_vmf_concentration(int d, double kappa)
{
    double b = 1.0 / kappa, nu = 0.5 * d - 1.0;
    for (int it = 0; it < 200; it++) {
        double next = ab_bessel_i_ratio(nu, b) / kappa;
        if (!isfinite(next)) break;
        if (!(next > 1e-3)) return 1.0 / kappa; /* no cluster at beta = 0: keep the strong guess */
        if (fabs(next - b) < 1e-12 * b) return next;
        b = next;
    }
    return b;
}

double ab_vmf_for_r(int d, double r)
{
    const double nu = 0.5 * d - 1.0;
    double lo = 0.0, hi = 1.0;
    while (ab_bessel_i_ratio(nu, hi) < r && hi < 1e12) hi *= 2.0;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi);
        if (ab_bessel_i_ratio(nu, mid) < r) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

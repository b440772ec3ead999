/* The power series shared by the Bessel functions and kappa_l (library-internal). */
#ifndef AB_MODEL_BESSEL_SERIES_H
#define AB_MODEL_BESSEL_SERIES_H

/* sum_k y^k / (k! (nu+1)_k) = Gamma(nu+1) (2/x)^nu I_nu(x) with y = x^2/4: positive terms,
 * so accurate in relative terms; it converges in a few dozen terms while y <= 4 (nu + 1). */
double ab_sphere_mean_series(double nu, double y);

#endif

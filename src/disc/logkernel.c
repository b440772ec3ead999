/* The exact zonal convolution with e^{beta<x,y>} in log form (docs/theory.md, "Log-domain
 * kernel"): kernel tables between two node sets and log-sum-exp application. */
#include "disc/logkernel.h"

#include "attnbif/model.h"

#include <math.h>

static double sin_of(double t)
{
    return sqrt(fmax((1.0 - t) * (1.0 + t), 0.0));
}

void ab_logkernel_table(double mu, double beta, int nt, const double *t, int ns, const double *s,
                        const double *logw_s, double *KL, double *KB, double *KT)
{
    for (int j = 0; j < ns; j++) {
        const double ss = sin_of(s[j]);
        for (int i = 0; i < nt; i++) {
            const double st = sin_of(t[i]), z = beta * st * ss;
            const size_t ij = (size_t)i + (size_t)j * nt;
            KL[ij] = beta * t[i] * s[j] + ab_log_sphere_mean_exp(mu, z) + (logw_s ? logw_s[j] : 0.0);
            if (KB || KT) {
                const double R = ab_dlog_sphere_mean_exp(mu, z);
                if (KB) KB[ij] = t[i] * s[j] + st * ss * R;
                /* d/dt of beta t s + log G(beta sqrt(1-t^2) sqrt(1-s^2)) */
                if (KT) KT[ij] = beta * s[j] - (st > 0.0 ? beta * t[i] * ss * R / st : 0.0);
            }
        }
    }
}

void ab_logkernel_apply(int nt, int ns, const double *KL, const double *u, double *LK, double *A)
{
    for (int i = 0; i < nt; i++) {
        double mx = -INFINITY;
        for (int j = 0; j < ns; j++) {
            const double e = KL[(size_t)i + (size_t)j * nt] + u[j];
            if (e > mx) mx = e;
        }
        double sum = 0.0;
        for (int j = 0; j < ns; j++) sum += exp(KL[(size_t)i + (size_t)j * nt] + u[j] - mx);
        LK[i] = mx + log(sum);
        if (A)
            for (int j = 0; j < ns; j++) A[(size_t)i + (size_t)j * nt] = exp(KL[(size_t)i + (size_t)j * nt] + u[j] - LK[i]);
    }
}

double ab_logkernel_max_exponent(int nt, int ns, const double *KL, const double *u, const double *LK)
{
    double worst = 0.0;
    for (int i = 0; i < nt; i++) {
        double mx = -INFINITY;
        for (int j = 0; j < ns; j++) {
            const double e = KL[(size_t)i + (size_t)j * nt] + u[j];
            if (e > mx) mx = e;
        }
        /* the rounding of each term is relative to its exponent; the largest terms decide */
        worst = fmax(worst, fmax(fabs(mx), fabs(LK[i])));
    }
    return worst;
}

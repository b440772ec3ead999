/* Vectorised reference for the particle drift: BLAS-3 Gram matrix, elementwise kernel,
 * BLAS-3 weighted sum (the same arithmetic as the fused loop in src/sim/particles.c). */
#ifndef AB_REF_SIM_H
#define AB_REF_SIM_H

/* V = P_X(v(X)) for SA (sa = 1) or USA; G is n x n scratch. */
void ref_sim_drift(int sa, int n, int d, double beta, const double *X, double *V, double *G);

#endif

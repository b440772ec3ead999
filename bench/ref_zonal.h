/* Independent, straightforward reference for zonal stationary states and their sector
 * spectra: Nystrom discretisation with the explicit zonal kernel (no Funk-Hecke
 * diagonalisation), Newton with a finite-difference Jacobian, and the plain h-space
 * Galerkin of MATH.md section 5 with LAPACK dgeev. Shares no numerical code with src/. */
#ifndef AB_REF_ZONAL_H
#define AB_REF_ZONAL_H

typedef struct {
    double r, S;
    int newton_iterations;
    double residual;
} ref_zonal_state;

typedef struct ref_zonal ref_zonal;

/* sa: 1 for SA, 0 for USA; beta > 0. Solves from the guess e^{t/kappa}. NULL on failure. */
ref_zonal *ref_zonal_solve(int sa, int d, double beta, double kappa, int nodes, ref_zonal_state *out);
/* All eigenvalues of sector m (real parts in re, imaginary in im, count = nodes - m),
 * sorted by real part descending. Returns 0 on failure. */
int ref_zonal_sector(ref_zonal *ref, int m, double *re, double *im, int *count);
void ref_zonal_free(ref_zonal *ref);

#endif

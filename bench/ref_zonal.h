/* Independent, straightforward reference for zonal stationary states and their sector
 * spectra: Nystrom discretisation with the explicit zonal kernel (no Funk-Hecke
 * diagonalisation), Newton with a finite-difference Jacobian, and the plain h-space
 * Galerkin of docs/theory.md (matrices S and H, eigenvalues of -S H by LAPACK dgeev).
 * Shares no numerical code with src/. Valid while rho* spans at most ~e^20 (h-space H holds
 * kappa/rho*): eigenvalues to ~1e-9 there, 2e-6 at e^25, meaningless beyond e^30. */
#ifndef AB_REF_ZONAL_H
#define AB_REF_ZONAL_H

typedef struct {
    double r, S;
    int newton_iterations;
    double residual;
} ref_zonal_state;

typedef struct ref_zonal ref_zonal;

/* sa: 1 for SA, 0 for USA; 0 < beta <= 20, d >= 2. Damped Newton from the normalised guess
 * e^{t/kappa} to max|F| <= 1e-10; NULL on failure (out->residual tells how far it got). */
ref_zonal *ref_zonal_solve(int sa, int d, double beta, double kappa, int nodes, ref_zonal_state *out);
/* All eigenvalues of sector m (re[i] + i im[i], count = nodes - m; re and im hold nodes
 * entries), sorted by real part descending. Sector 0 lists the mass mode (0) and sector 1
 * the rotation mode (~0) with the rest. d = 2 has sectors 0 and 1 only. Returns 0 on failure. */
int ref_zonal_sector(ref_zonal *ref, int m, double *re, double *im, int *count);
void ref_zonal_free(ref_zonal *ref);

#endif

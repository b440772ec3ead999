/* Internal: a few rightmost eigenvalues of a dense nonsymmetric matrix by ARPACK. */
#ifndef AB_ARNOLDI_H
#define AB_ARNOLDI_H

#include "attnbif/error.h"

/* The k rightmost eigenvalues of the n x n column-major matrix A (k <= n - 2) by implicitly
 * restarted Arnoldi (ARPACK dnaupd/dneupd) on the Cayley transform
 * T = (A - s I)^{-1} (A + s I), s = ||A||_inf: T maps Re > 0 outside the unit circle and
 * eigenvalues near the imaginary axis to |theta| ~ 1, so its largest-magnitude eigenvalues
 * are A's rightmost ones, complex pairs included (plain shift-invert would return those
 * nearest the shift and can miss a Hopf pair). Eigenvectors (n x k, ARPACK's real storage
 * of complex pairs) if vecs != NULL. *found = number converged. Not reentrant (ARPACK). */
ab_status ab_rightmost_eigs(const double *A, int n, int k, double *re, double *im, double *vecs, int *found,
                            ab_error *err);

#endif

/* Internal: a few rightmost eigenvalues of a dense nonsymmetric matrix by ARPACK (a wrapper
 * on ab_eigs, attnbif/eigs.h, kept for its callers). */
#ifndef AB_ARNOLDI_H
#define AB_ARNOLDI_H

#include "attnbif/error.h"

/* The k eigenvalues of the n x n column-major matrix A (k <= n - 3) nearest the shift
 * sigma = AB_ARNOLDI_SHIFT ||A||_inf (just right of 0), by implicitly restarted Arnoldi
 * (ARPACK dnaupd/dneupd) on the shift-invert transform (A - sigma I)^{-1}: its eigenvalues
 * theta = 1 / (lambda - sigma) separate the eigenvalues near the imaginary axis by their
 * distance to it, whatever ||A|| is (the Cayley transform with its pole at ||A||, used
 * before, packed them within ~|lambda| / ||A|| of -1 and ARPACK could not converge on
 * sharp states). These are the rightmost ones as long as no eigenvalue further from sigma
 * lies to their right (a complex pair with a large imaginary part): docs/theory.md.
 * Each eigenvalue is refined by a two-sided Rayleigh quotient with its left eigenvector
 * and gets an error estimate errs[j] (if errs != NULL). Eigenvectors (n x found, LAPACK's
 * real storage of complex pairs) if vecs != NULL. *found = number returned (k or k + 1:
 * complex pairs are never split), sorted by re descending. Allocates its workspace per call
 * (ab_eigs with AB_EIGS_ARPACK_SHIFT_INVERT reuses it). Not reentrant (ARPACK). */
ab_status ab_rightmost_eigs(const double *A, int n, int k, double *re, double *im, double *errs, double *vecs,
                            int *found, ab_error *err);

#endif

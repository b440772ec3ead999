/* ab_rightmost_eigs: the shift-invert ARPACK eigensolver of eigs.c with a dense LU, on a
 * dense matrix (see arnoldi.h). */
#include "solve/arnoldi.h"

#include "attnbif/eigs.h"
#include "solve/dense_op.h"

ab_status ab_rightmost_eigs(const double *A, int n, int k, double *re, double *im, double *errs, double *vecs,
                            int *found, ab_error *err)
{
    *found = 0;
    if (n < 1 || k < 1 || k > n - 3) return ab_error_set(err, AB_EINVAL, "ARPACK: need 1 <= k <= n - 3 (k = %d, n = %d)", k, n);
    ab_eigs_params p;
    ab_eigs_params_default(&p, AB_EIGS_ARPACK_SHIFT_INVERT);
    p.k = k;
    ab_eigs *eigs;
    ab_status st = ab_eigs_create((size_t)n, &p, &eigs, err);
    if (st) return st;
    ab_dense_op dense = {A, (size_t)n, (size_t)n};
    ab_linop op;
    ab_dense_op_linop(&dense, &op);
    st = ab_eigs_compute(eigs, &op, found, re, im, errs, vecs, err);
    ab_eigs_destroy(eigs);
    return st;
}

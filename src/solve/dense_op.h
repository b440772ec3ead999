/* Internal: a column-major dense matrix seen as an ab_linop (mat-vec, transpose, matrix),
 * for the sector matrices the spectrum hands to the eigensolvers. */
#ifndef AB_DENSE_OP_H
#define AB_DENSE_OP_H

#include "attnbif/linsol.h"

typedef struct {
    const double *A; /* n x n, column-major, leading dimension lda */
    size_t n, lda;
} ab_dense_op;

/* op->ctx points to *dense, which must outlive op. */
void ab_dense_op_linop(const ab_dense_op *dense, ab_linop *op);

#endif

/* A dense matrix as an ab_linop (see dense_op.h). */
#include "solve/dense_op.h"

#include <cblas.h>
#include <string.h>

static ab_status dense_apply(void *ctx, const double *x, double *y, ab_error *err)
{
    (void)err;
    const ab_dense_op *d = ctx;
    cblas_dgemv(CblasColMajor, CblasNoTrans, (int)d->n, (int)d->n, 1.0, d->A, (int)d->lda, x, 1, 0.0, y, 1);
    return AB_OK;
}

static ab_status dense_apply_t(void *ctx, const double *x, double *y, ab_error *err)
{
    (void)err;
    const ab_dense_op *d = ctx;
    cblas_dgemv(CblasColMajor, CblasTrans, (int)d->n, (int)d->n, 1.0, d->A, (int)d->lda, x, 1, 0.0, y, 1);
    return AB_OK;
}

static ab_status dense_matrix(void *ctx, double *M, size_t ld, ab_error *err)
{
    (void)err;
    const ab_dense_op *d = ctx;
    for (size_t j = 0; j < d->n; j++) memcpy(M + j * ld, d->A + j * d->lda, sizeof(double) * d->n);
    return AB_OK;
}

void ab_dense_op_linop(const ab_dense_op *dense, ab_linop *op)
{
    op->n = dense->n;
    op->apply = dense_apply;
    op->apply_transpose = dense_apply_t;
    op->matrix = dense_matrix;
    op->ctx = (void *)dense;
}

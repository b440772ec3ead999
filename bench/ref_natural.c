/* Reference for bench_diagram: natural-parameter continuation in kappa, Newton with a
 * forward-difference Jacobian, dense LAPACK eigen-decomposition (with eigenvectors) of
 * every monitored sector at every point: what one would script without a continuation
 * library. It shares the discretisation (residual and sector matrices) with attnbif so
 * that the comparison measures the algorithms, not the discretisation. */
#include "ref_natural.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int newton_fd(ab_disc *disc, double *u, int n, double *F, double *J, double *Ft, lapack_int *ipiv)
{
    for (int it = 0; it < 30; it++) {
        ab_error err = {0};
        if (ab_disc_residual(disc, u, F, &err)) return 0;
        double res = 0.0;
        for (int i = 0; i < n; i++) res = fmax(res, fabs(F[i]));
        if (res <= 1e-11 * ab_disc_residual_scale(disc)) return 1;
        for (int j = 0; j < n; j++) {
            double h = 1e-7 * fmax(1.0, fabs(u[j])), keep = u[j];
            u[j] = keep + h;
            if (ab_disc_residual(disc, u, Ft, &err)) return 0;
            u[j] = keep;
            for (int i = 0; i < n; i++) J[i + (size_t)j * n] = (Ft[i] - F[i]) / h;
        }
        for (int i = 0; i < n; i++) F[i] = -F[i];
        if (LAPACKE_dgesv(LAPACK_COL_MAJOR, n, 1, J, n, ipiv, F, n)) return 0;
        for (int i = 0; i < n; i++) u[i] += F[i];
    }
    return 0;
}

/* Number of eigenvalues with positive real part over the spec's sectors (the mass mode
 * is already deflated by the sector operator; the near-zero rotation mode is skipped by
 * a threshold, as a script would). */
static int unstable_count(ab_disc *disc, const ab_spec *spec, const double *u, double *A, double *wr, double *wi,
                          double *V)
{
    int count = 0;
    for (int q = 0; q < spec->n_sectors; q++) {
        ab_sector_op op;
        ab_error err = {0};
        if (ab_disc_sector_operator(disc, u, spec->sectors[q], &op, &err)) return -1;
        memcpy(A, op.matrix, sizeof(double) * (size_t)op.dim * op.dim);
        if (LAPACKE_dgeev(LAPACK_COL_MAJOR, 'N', 'V', op.dim, A, op.dim, wr, wi, NULL, 1, V, op.dim)) return -1;
        for (int i = 0; i < op.dim; i++)
            if (wr[i] > 1e-8) count += (int)op.multiplicity;
    }
    return count;
}

int ref_natural_branch(const ab_spec *spec, ab_state_type state, double kappa_start, double kappa_end, double dkappa,
                       double stop_r, ref_natural_result *out)
{
    memset(out, 0, sizeof *out);
    ab_spec s = *spec;
    s.kappa = kappa_start;
    s.state.type = state;
    ab_disc *disc;
    ab_error err = {0};
    if (ab_disc_create_from_spec(&s, &disc, &err)) return 0;
    int n = (int)ab_disc_dim(disc);
    double *u = malloc(sizeof(double) * n), *F = malloc(sizeof(double) * n), *Ft = malloc(sizeof(double) * n);
    double *J = malloc(sizeof(double) * (size_t)n * n), *A = malloc(sizeof(double) * (size_t)n * n);
    double *V = malloc(sizeof(double) * (size_t)n * n), *wr = malloc(sizeof(double) * n), *wi = malloc(sizeof(double) * n);
    lapack_int *ipiv = malloc(sizeof(lapack_int) * n);
    ab_disc_initial_guess(disc, &s.state, u, &err);
    int steps = (int)floor(fabs(kappa_end - kappa_start) / dkappa + 0.5), prev = -1;
    double dir = kappa_end > kappa_start ? 1.0 : -1.0, prev_kappa = kappa_start;
    for (int k = 0; k <= steps; k++) {
        double kappa = kappa_start + dir * k * dkappa;
        ab_params p = {kappa, spec->model.beta};
        if (ab_disc_set_params(disc, p, &err) || !newton_fd(disc, u, n, F, J, Ft, ipiv)) break;
        ab_observables obs;
        ab_disc_observables(disc, u, &obs, &err);
        if (stop_r > 0 && obs.r + fabs(obs.S) < stop_r) break; /* fell onto the uniform state */
        int c = unstable_count(disc, spec, u, A, wr, wi, V);
        if (c < 0) break;
        if (prev >= 0 && c != prev && out->branch_points < 16) out->located[out->branch_points++] = 0.5 * (kappa + prev_kappa);
        prev = c;
        prev_kappa = kappa;
        out->points++;
        out->last_kappa = kappa;
    }
    free(u); free(F); free(Ft); free(J); free(A); free(V); free(wr); free(wi); free(ipiv);
    ab_disc_destroy(disc);
    return 1;
}

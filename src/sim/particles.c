/* One replica of the n-token system: the attention drift (the O(n^2) hot loop), the
 * independent noise as random rotations, the common RQF noise, samples and the tangent
 * dynamics for the Lyapunov exponent. */
#include "sim/particles.h"

#include <gsl/gsl_randist.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

ab_status ab_particles_init(ab_particles *p, const ab_model *model, double kappa, int n, const ab_sim_spec *sim,
                            double dt, unsigned long seed, ab_error *err)
{
    memset(p, 0, sizeof *p);
    p->kind = model->kind;
    p->d = model->d;
    p->beta = model->beta;
    p->kappa = kappa;
    p->n = n;
    p->dt = dt;
    p->sim = sim;
    const size_t nd = (size_t)n * model->d, dd = (size_t)model->d * model->d;
    p->X = malloc(sizeof(double) * nd);
    p->V = malloc(sizeof(double) * nd);
    p->Y = malloc(sizeof(double) * nd);
    p->XT = malloc(sizeof(double) * nd);
    p->skew = malloc(sizeof(double) * (size_t)n * (model->d * (model->d - 1) / 2 + 1));
    p->dW = malloc(sizeof(double) * dd);
    p->dW2 = malloc(sizeof(double) * dd);
    p->small = malloc(sizeof(double) * (dd + 5 * (size_t)model->d));
    if (sim->lyapunov) {
        p->delta = malloc(sizeof(double) * nd);
        p->X2 = malloc(sizeof(double) * nd);
        p->Y2 = malloc(sizeof(double) * nd);
    }
    p->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!p->X || !p->V || !p->Y || !p->XT || !p->skew || !p->dW || !p->dW2 || !p->small || !p->rng ||
        (sim->lyapunov && (!p->delta || !p->X2 || !p->Y2))) {
        ab_particles_free(p);
        return ab_error_set(err, AB_ENOMEM, "out of memory for %d tokens", n);
    }
    gsl_rng_set(p->rng, seed);
    /* Uniform initial positions (normalised Gaussians) or, to skip the slow coarsening of
     * many clusters into one at large n, positions near the pole e_0; and a random tangent
     * perturbation. */
    for (int i = 0; i < n; i++) {
        double *x = p->X + (size_t)i * p->d, nrm = 0.0;
        for (int k = 0; k < p->d; k++) {
            x[k] = gsl_ran_gaussian_ziggurat(p->rng, sim->initial_cluster ? 0.3 : 1.0) + (sim->initial_cluster && k == 0);
            nrm += x[k] * x[k];
        }
        nrm = sqrt(nrm);
        for (int k = 0; k < p->d; k++) x[k] /= nrm;
    }
    if (sim->lyapunov) {
        double nrm = 0.0;
        for (size_t k = 0; k < nd; k++) { p->delta[k] = gsl_ran_gaussian_ziggurat(p->rng, 1.0); }
        for (int i = 0; i < n; i++) { /* tangent to each token's sphere */
            double *x = p->X + (size_t)i * p->d, *v = p->delta + (size_t)i * p->d, dot = 0.0;
            for (int k = 0; k < p->d; k++) dot += x[k] * v[k];
            for (int k = 0; k < p->d; k++) v[k] -= dot * x[k];
        }
        for (size_t k = 0; k < nd; k++) nrm += p->delta[k] * p->delta[k];
        nrm = sqrt(nrm);
        for (size_t k = 0; k < nd; k++) p->delta[k] /= nrm;
    }
    return AB_OK;
}

void ab_particles_free(ab_particles *p)
{
    free(p->X); free(p->V); free(p->Y); free(p->XT); free(p->skew); free(p->dW); free(p->dW2); free(p->small);
    free(p->delta); free(p->X2); free(p->Y2);
    if (p->rng) gsl_rng_free(p->rng);
    memset(p, 0, sizeof *p);
}

/* glibc's vector exp (libmvec, reached through libm): declaring exp as an OpenMP simd
 * function lets the weight loop below call its 2-, 4- or 8-wide variants (about 4x the
 * scalar throughput, <= 4 ulp). glibc's own headers only declare this under -ffast-math. */
#if defined(__GLIBC__) && defined(__x86_64__) && defined(_OPENMP)
#pragma omp declare simd notinbranch
extern double exp(double);
#define AB_DRIFT_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define AB_DRIFT_CLONES
#endif

#define AB_DRIFT_BLOCK 256 /* tokens j per pass: the block's overlaps stay in L1 */
#define AB_DRIFT_LANES 8   /* independent partial sums: vectorisable without reassociation */

/* Row i of V = P_X(v(X)), the exact finite-n drift (self term included),
 *   SA:  v_i = sum_j e^{beta(<x_i,x_j> - 1)} x_j / sum_j e^{beta(<x_i,x_j> - 1)}
 *   USA: v_i = (1/n) sum_j e^{beta <x_i,x_j>} x_j
 * (the SA shift by 1 cancels and keeps the exponentials <= 1). XT is X transposed (d x n)
 * so that the loops over j are unit-stride. The partial sums are kept in AB_DRIFT_LANES
 * lanes and added in a fixed order, so the result does not depend on the vector width
 * the CPU offers, nor on the thread count. */
/* sums[l] += sum over jj = l (mod lanes), jj < count, of w[jj] (times x[jj] unless x is
 * NULL); count is a multiple of AB_DRIFT_LANES. The lanes live in a local array that the
 * compiler keeps in vector registers for the whole loop. */
static inline void lane_sum(int count, const double *w, const double *x, double *sums)
{
    double s[AB_DRIFT_LANES];
    for (int l = 0; l < AB_DRIFT_LANES; l++) s[l] = sums[l];
    for (int jj = 0; jj < count; jj += AB_DRIFT_LANES)
#pragma omp simd
        for (int l = 0; l < AB_DRIFT_LANES; l++) s[l] += x ? w[jj + l] * x[jj + l] : w[jj + l];
    for (int l = 0; l < AB_DRIFT_LANES; l++) sums[l] = s[l];
}

AB_DRIFT_CLONES
static void drift_row(ab_model_kind kind, int n, int d, double beta, const double *XT, const double *xi, double *vi)
{
    double w[AB_DRIFT_BLOCK], wacc[AB_DRIFT_LANES] = {0};
    const double inv_n = 1.0 / n;
    /* vi accumulates the weighted positions: each block's lanes are added to it in a fixed
     * order, so no scratch of size d is needed (any d) and the result stays independent of
     * the vector width and the thread count */
    for (int k = 0; k < d; k++) vi[k] = 0.0;
    for (int j0 = 0; j0 < n; j0 += AB_DRIFT_BLOCK) {
        const int m = n - j0 < AB_DRIFT_BLOCK ? n - j0 : AB_DRIFT_BLOCK;
        for (int jj = 0; jj < m; jj++) w[jj] = 0.0;
        for (int k = 0; k < d; k++) {
            const double xk = xi[k], *row = XT + (size_t)k * n + j0;
#pragma omp simd
            for (int jj = 0; jj < m; jj++) w[jj] += xk * row[jj];
        }
        if (kind == AB_MODEL_SA) {
#pragma omp simd
            for (int jj = 0; jj < m; jj++) w[jj] = exp(beta * (w[jj] - 1.0));
        } else {
#pragma omp simd
            for (int jj = 0; jj < m; jj++) w[jj] = exp(beta * w[jj]) * inv_n;
        }
        /* The weight sum runs over whole lanes (zero weights pad the block); the position
         * sums add the block's tail by hand so as not to read past row n. */
        const int m8 = (m + AB_DRIFT_LANES - 1) / AB_DRIFT_LANES * AB_DRIFT_LANES;
        for (int jj = m; jj < m8; jj++) w[jj] = 0.0;
        lane_sum(m8, w, NULL, wacc);
        for (int k = 0; k < d; k++) {
            const double *row = XT + (size_t)k * n + j0;
            double a[AB_DRIFT_LANES] = {0};
            const int full = m / AB_DRIFT_LANES * AB_DRIFT_LANES;
            lane_sum(full, w, row, a);
            for (int jj = full; jj < m; jj++) a[jj - full] += w[jj] * row[jj];
            double s = 0.0;
            for (int l = 0; l < AB_DRIFT_LANES; l++) s += a[l];
            vi[k] += s;
        }
    }
    double wsum = 0.0, dot = 0.0;
    for (int l = 0; l < AB_DRIFT_LANES; l++) wsum += wacc[l];
    const double scale = kind == AB_MODEL_SA ? 1.0 / wsum : 1.0;
    for (int k = 0; k < d; k++) {
        vi[k] *= scale;
        dot += vi[k] * xi[k];
    }
    for (int k = 0; k < d; k++) vi[k] -= dot * xi[k];
}

void ab_attention_drift(ab_model_kind kind, int n, int d, double beta, const double *X, double *XT, double *V)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++) XT[(size_t)k * n + i] = X[(size_t)i * d + k];
    /* Threads only for large n and outside the replica loop: opening a parallel region
     * costs more than a small drift (and even an if(false) region is not free). */
    if (n >= 256 && !omp_in_parallel()) {
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) drift_row(kind, n, d, beta, XT, X + (size_t)i * d, V + (size_t)i * d);
    } else {
        for (int i = 0; i < n; i++) drift_row(kind, n, d, beta, XT, X + (size_t)i * d, V + (size_t)i * d);
    }
}

/* Draw this step's noise: one skew-symmetric Gaussian matrix per token (independent
 * noise) and one GOE increment (common noise). */
static void draw_noise(ab_particles *p)
{
    const int d = p->d, m = d * (d - 1) / 2;
    if (p->sim->independent_noise && p->kappa > 0.0) {
        const double sigma = sqrt(2.0 * p->kappa * p->dt);
        for (size_t k = 0; k < (size_t)p->n * m; k++) p->skew[k] = sigma * gsl_ran_gaussian_ziggurat(p->rng, 1.0);
    }
    if (p->sim->common_noise > 0.0) {
        const double s = p->sim->common_noise * sqrt(p->dt);
        for (int i = 0; i < d; i++)
            for (int j = i; j < d; j++) {
                double g = gsl_ran_gaussian_ziggurat(p->rng, 1.0) * s * (i == j ? sqrt(2.0) : 1.0);
                p->dW[i + j * d] = p->dW[j + i * d] = g;
            }
        /* dW2 = dW^2 / 2 for the second-order (Stratonovich) term */
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double acc = 0.0;
                for (int k = 0; k < d; k++) acc += p->dW[i + k * d] * p->dW[k + j * d];
                p->dW2[i + j * d] = 0.5 * acc;
            }
    }
}

/* y <- Cayley(A) y = (I - A/2)^{-1} (I + A/2) y for the skew matrix A with upper entries a:
 * an exact rotation that agrees with exp(A) to second order, so it has the Brownian
 * motion's Ito drift -kappa (d-1) x and, being an isometry, adds nothing to the Lyapunov
 * exponent (docs/simulation.md). */
static void cayley_rotate(int d, const double *a, double *y, double *work)
{
    double *M = work, *b = work + d * d;
    for (int i = 0; i < d; i++) { M[i * d + i] = 1.0; b[i] = y[i]; }
    int k = 0;
    for (int i = 0; i < d; i++)
        for (int j = i + 1; j < d; j++, k++) {
            double h = 0.5 * a[k];
            M[i * d + j] = -h; M[j * d + i] = h; /* I - A/2 with A_ij = a, A_ji = -a */
            b[i] += h * y[j];
            b[j] -= h * y[i];
        }
    /* Gaussian elimination without pivoting: I - A/2 has positive definite symmetric part.
     * M is row-major so that the row operations are unit-stride (at d = 256 the strided
     * column-major loops were 90% of a step). */
    for (int c = 0; c < d; c++)
        for (int r = c + 1; r < d; r++) {
            double f = M[r * d + c] / M[c * d + c];
            for (int j = c; j < d; j++) M[r * d + j] -= f * M[c * d + j];
            b[r] -= f * b[c];
        }
    for (int r = d - 1; r >= 0; r--) {
        double s = b[r];
        for (int j = r + 1; j < d; j++) s -= M[r * d + j] * y[j];
        y[r] = s / M[r * d + r];
    }
}

/* The deterministic map of one step for the drawn noise: X -> Y (rows normalised). */
static void apply_step(ab_particles *p, const double *X, double *V, double *Y)
{
    const int n = p->n, d = p->d, m = d * (d - 1) / 2;
    if (p->sim->attention) ab_attention_drift(p->kind, n, d, p->beta, X, p->XT, V);
    double *work = p->small, *tmp = p->small + d * d + 2 * d;
    for (int i = 0; i < n; i++) {
        const double *x = X + (size_t)i * d;
        double *y = Y + (size_t)i * d;
        for (int k = 0; k < d; k++) y[k] = x[k] + (p->sim->attention ? p->dt * V[(size_t)i * d + k] : 0.0);
        if (p->sim->independent_noise && p->kappa > 0.0) cayley_rotate(d, p->skew + (size_t)i * m, y, work);
        if (p->sim->common_noise > 0.0) {
            /* y <- (I - dW + dW^2/2) y: the Stratonovich flow dX = -dW o X to weak order 1;
             * the projection onto the sphere is the normalisation below. */
            for (int r = 0; r < d; r++) {
                double acc = y[r];
                for (int k = 0; k < d; k++) acc += (p->dW2[r + k * d] - p->dW[r + k * d]) * y[k];
                tmp[r] = acc;
            }
            memcpy(y, tmp, sizeof(double) * d);
        }
        double nrm = 0.0;
        for (int k = 0; k < d; k++) nrm += y[k] * y[k];
        nrm = 1.0 / sqrt(nrm);
        for (int k = 0; k < d; k++) y[k] *= nrm;
    }
}

double ab_particles_step(ab_particles *p)
{
    const size_t nd = (size_t)p->n * p->d;
    draw_noise(p);
    apply_step(p, p->X, p->V, p->Y);
    double growth = 0.0;
    if (p->sim->lyapunov) {
        /* Tangent dynamics by a finite difference of the step map with the same noise. */
        const double eps = 1e-7;
        for (size_t k = 0; k < nd; k++) p->X2[k] = p->X[k] + eps * p->delta[k];
        apply_step(p, p->X2, p->V, p->Y2);
        double nrm = 0.0;
        for (size_t k = 0; k < nd; k++) { p->delta[k] = (p->Y2[k] - p->Y[k]) / eps; nrm += p->delta[k] * p->delta[k]; }
        nrm = sqrt(nrm);
        for (size_t k = 0; k < nd; k++) p->delta[k] /= nrm;
        growth = log(nrm);
    }
    double *t = p->X;
    p->X = p->Y;
    p->Y = t;
    return growth;
}

void ab_particles_sample(const ab_particles *p, ab_sample *s)
{
    const int n = p->n, d = p->d;
    double *m = p->small, *M = p->small + d;
    for (int k = 0; k < d; k++) m[k] = 0.0;
    for (int k = 0; k < d * d; k++) M[k] = 0.0;
    for (int i = 0; i < n; i++) {
        const double *x = p->X + (size_t)i * d;
        for (int k = 0; k < d; k++) {
            m[k] += x[k];
            for (int l = 0; l <= k; l++) M[k + l * d] += x[k] * x[l];
        }
    }
    double r2 = 0.0;
    for (int k = 0; k < d; k++) { s->mean[k] = m[k] / n; r2 += s->mean[k] * s->mean[k]; }
    s->r = sqrt(r2);
    /* mean overlap over pairs i < j: (|sum x|^2 - n) / (n (n - 1)) */
    s->q = (r2 * n * n - n) / ((double)n * (n - 1));
    for (int k = 0; k < d; k++)
        for (int l = 0; l <= k; l++) s->second[k + l * d] = s->second[l + k * d] = M[k + l * d] / n;
    /* nematic order: eigenvalue of largest magnitude of (d M - I)/(d - 1) */
    double *A = M, *w = p->small + d + d * d + 3 * d;
    for (int k = 0; k < d * d; k++) A[k] = s->second[k];
    /* the _work variant with the scratch after M: LAPACKE_dsyev would allocate per sample */
    LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'N', 'U', d, A, d, w, p->small + d + d * d, 3 * d);
    double lo = (d * w[0] - 1.0) / (d - 1.0), hi = (d * w[d - 1] - 1.0) / (d - 1.0);
    s->S = fabs(hi) >= fabs(lo) ? hi : lo;
}

/* Histogram of pairwise overlaps (the first min(n, 1024) tokens) into counts[bins]. */
void ab_particles_pair_histogram(const ab_particles *p, int bins, double *counts, double *abs_q_sum, long *pairs)
{
    const int n = p->n < 1024 ? p->n : 1024, d = p->d;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double g = 0.0;
            for (int k = 0; k < d; k++) g += p->X[(size_t)i * d + k] * p->X[(size_t)j * d + k];
            int b = (int)floor((g + 1.0) * 0.5 * bins);
            if (b < 0) b = 0;
            if (b >= bins) b = bins - 1;
            counts[b] += 1.0;
            *abs_q_sum += fabs(g);
            (*pairs)++;
        }
}

/* Independent reference for the zonal 1-cluster stationary state of the mean-field SA and
 * USA models at large beta, large d and small kappa (docs/testing.md, "The 1-cluster
 * reference"). Shares no code with src/: angle variable, graded Gauss-Legendre panels,
 * exact zonal kernel in log form, Newton on u = log rho. */
#ifndef AB_REF_CLUSTER_H
#define AB_REF_CLUSTER_H

#define REF_CLUSTER_SA 0
#define REF_CLUSTER_USA 1

typedef struct {
    double r, one_minus_r; /* polar order and 1 - r, the latter summed directly (relative accuracy) */
    double S, one_minus_S; /* nematic order int P_2^{(d)}(t) rho, P_2^{(d)} = (d t^2 - 1)/(d - 1) */
    double kappa, err_kappa; /* kappa (unknown in ref_cluster_at_r; its two-resolution difference) */
    double err_r;          /* |r(p) - r(p')| between the two resolutions (p, p' nodes per panel) */
    double err_one_minus_r, err_S;
    int points;            /* quadrature points of the finer (returned) resolution */
    int panels;
    int newton_iterations; /* on the finest grid */
    double residual;       /* max |F_i| / (1 + |u_i|) at the returned state, F = u - Phi/kappa + log Z */
    double mass_residual;  /* sum_i m_i |F_i| (m_i the mass at node i) */
    int status;            /* 0 on success */
    char message[256];     /* why, when status != 0 */
} ref_cluster_result;

/* model REF_CLUSTER_SA or REF_CLUSTER_USA, d >= 2, beta >= 0 (beta = 0 is the limit
 * Phi = <x, m>), kappa > 0. r_guess in (0, 1) selects the cluster: the branch is first
 * solved at r = r_guess (kappa unknown) and followed by a secant in r to kappa, so the
 * cluster reached is the one whose r the guess is nearest along the branch; r_guess <= 0
 * starts from the sharp profile e^{a (t-1)}, a = 1/kappa (SA, beta = 0) or e^beta/kappa (USA).
 * r, 1 - r and S come from the finer of two resolutions on the adapted panels, with their
 * difference as the error estimate. out->status: 0 success, 1 bad input or out of memory,
 * 2 Newton failed (no cluster near the guess), 3 resolution not reached within the point
 * budget, 4 the state found is uniform (r < 1e-8) or not a 1-cluster. */
int ref_cluster_r(int model, int d, double beta, double kappa, double r_guess, ref_cluster_result *out);

typedef struct {
    int extra_split; /* halve every panel of the adapted grid this many times (a second,
                      * independent layout for checking the error estimate) */
} ref_cluster_options;
int ref_cluster_r_opts(int model, int d, double beta, double kappa, double r_guess, const ref_cluster_options *opt,
                       ref_cluster_result *out);

/* The branch parameterised by r: the kappa at which the 1-cluster has polar order r (the
 * returned state has r = r to rounding). kappa_guess <= 0: the SA law 1 - r = (d-1) kappa/2. */
int ref_cluster_at_r(int model, int d, double beta, double r, double kappa_guess, ref_cluster_result *out);

/* log G_mu(z) - z for z >= 0, G_mu(z) = Gamma(mu+1) (2/z)^mu I_mu(z) = 0F1(; mu+1; z^2/4),
 * 2 mu an integer >= -1 (mu = -1/2: cosh z). Series, Hankel expansion or quadrature. */
double ref_cluster_log_G_scaled(double mu, double z);
/* The same by log-domain Gauss-Legendre quadrature of int e^{z c} w_{2mu+3}(c) dc only
 * (no series or expansion), for checking; mu >= 0. */
double ref_cluster_log_G_scaled_quad(double mu, double z);
/* kappa_1 of the uniform state, from the same G: SA G_{nu+1}(beta) / (2 (nu+1) G_nu(beta)),
 * USA G_{nu+1}(beta) / (2 (nu+1)), nu = d/2 - 1. */
double ref_cluster_kappa1(int model, int d, double beta);

#endif

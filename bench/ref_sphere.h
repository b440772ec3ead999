/* Independent reference for stationary states of the mean-field SA and USA models on the
 * whole sphere S^2 (docs/sphere.md, "Independent reference"), for checking k-cluster states.
 * Shares no code with src/: Nystrom collocation with the explicit kernel e^{beta <x,y>} on
 * a Gauss-Legendre x trapezoid grid, Newton with dense LU on a bordered system whose phase
 * conditions pin the rotation. */
#ifndef AB_REF_SPHERE_H
#define AB_REF_SPHERE_H

#define REF_SPHERE_SA 0
#define REF_SPHERE_USA 1
#define REF_SPHERE_MAX_CLUSTERS 32

typedef struct ref_sphere_state ref_sphere_state;

typedef struct {
    int model;          /* REF_SPHERE_SA or REF_SPHERE_USA */
    double beta;        /* > 0 */
    double kappa;       /* > 0 */
    int nlat, nlon;     /* grid: nlat Gauss-Legendre nodes in z = cos theta, nlon uniform longitudes */
    int k;              /* number of clusters of the initial guess, 1..REF_SPHERE_MAX_CLUSTERS */
    double centres[REF_SPHERE_MAX_CLUSTERS][3]; /* their centres (normalised here) */
    double weights[REF_SPHERE_MAX_CLUSTERS];    /* their weights (> 0; normalised here) */
    double guess_b;     /* concentration b of the guess's bumps w_i e^{b <x, c_i>}; <= 0: 1/kappa (SA),
                         * w_i e^beta / kappa (USA) */
    const ref_sphere_state *start; /* if not NULL: the guess is this state's interpolant (same model,
                                    * beta, kappa; any grid); the orientation is pinned by the
                                    * centres and weights as without it */
} ref_sphere_params;

typedef struct {
    double r;           /* |int x rho dsigma| */
    double S;           /* signed top eigenvalue (largest in modulus) of Q = int (3 x x^T - I)/2 rho dsigma;
                         * for an axisymmetric state int P_2(<x, axis>) rho, as docs/theory.md */
    double entropy;     /* -int rho log rho dsigma */
    double free_energy; /* USA: E(rho) - E(1) (docs/theory.md); NaN for SA */
    double peak[REF_SPHERE_MAX_CLUSTERS][3];   /* the local maximum of rho reached from given centre i */
    double peak_rho[REF_SPHERE_MAX_CLUSTERS];  /* rho there (the interpolant) */
    double mass[REF_SPHERE_MAX_CLUSTERS];      /* int of rho over the Voronoi cell of peak i among the peaks */
    double centre[REF_SPHERE_MAX_CLUSTERS][3]; /* normalised int x rho over that cell */
    double mass_err;    /* max change of a mass between two cell quadratures (40 and 56 nodes per piece) */
    double mass_total;  /* sum of the masses (1 up to the interpolant's and the cells' quadrature error) */
    double rho_min, rho_max;                   /* over the grid */
    double residual;    /* max_p |F_p| at the returned state, F = u - Phi/kappa + log Z (without the multipliers) */
    double multiplier;  /* max |mu_k|: the size of the rotation multipliers (the grid's breaking of rotations) */
    int phase_conditions; /* 3, or 2 for an axisymmetric guess */
    int newton_iterations;
    int factorizations; /* LU factorisations of the bordered Jacobian (Newton takes chord steps while they contract) */
    int points;         /* nlat * nlon */
    int status;         /* 0 success; 1 bad input or out of memory; 2 Newton did not converge;
                         * 3 two given centres lead to the same peak (clusters merged) */
    char message[256];
} ref_sphere_result;

/* Solve from the guess described by p. On status 0 and state != NULL, *state holds the
 * solution for ref_sphere_rho (free with ref_sphere_free). */
int ref_sphere_solve(const ref_sphere_params *p, ref_sphere_result *out, ref_sphere_state **state);

/* rho at any unit vector x by the Nystrom interpolant rho(x) = e^{Phi(x)/kappa} / Z. */
double ref_sphere_rho(const ref_sphere_state *s, const double x[3]);
void ref_sphere_free(ref_sphere_state *s);

/* Centres of the standard arrangements: "tetrahedron" (4), "polygon" (k on the equator,
 * first at (1,0,0)), "antipodal" (2, +-z), "one" (z). Returns the count, 0 if unknown. */
int ref_sphere_arrangement(const char *name, int k, double centres[][3]);

#endif

/* The diagram builder's test for the uniform state (issue 11): a state with a polyhedral
 * symmetry (T_d, O_h, I_h) has r = S = 0 like the uniform state, but a negative entropy.
 * Observed: on the whole sphere at degree 32 (SA d = 3, beta = 4, the catalogue up to
 * l = 4), an eigenvalue crossing at kappa = 0.0170 on the O_h branch born at kappa_4 was
 * taken for a 9-fold branch point of the uniform state, and O_h and D_inf_h branches were
 * switched from it. */
#include "run/builder.h"
#include "testutil.h"

#include <math.h>
#include <string.h>

int main(void)
{
    ab_init();
    ab_tally t = {0};
    ab_builder b;
    memset(&b, 0, sizeof b);
    ab_cont_params_default(&b.prm);
    ab_branch_point bp;
    memset(&bp, 0, sizeof bp);
    /* the uniform state: r, S and the entropy zero to rounding */
    bp.r = 3e-17;
    bp.S = -7e-16;
    bp.entropy = 1e-16;
    ab_check(&t, ab_builder_is_uniform(&b, &bp), "r = S = entropy = 0: uniform");
    /* an octahedral state near kappa_4: r = S = 0 by symmetry, entropy -2.3e-3 */
    bp.r = 6.7e-17;
    bp.S = 2.6e-12;
    bp.entropy = -2.3e-3;
    ab_check(&t, !ab_builder_is_uniform(&b, &bp), "r = S = 0 but entropy -2.3e-3 (O_h): not uniform");
    /* a 1-cluster */
    bp.r = 0.5;
    bp.S = 0.2;
    bp.entropy = -0.3;
    ab_check(&t, !ab_builder_is_uniform(&b, &bp), "a 1-cluster: not uniform");
    /* no entropy known (NaN): r and S decide */
    bp.r = 1e-17;
    bp.S = 1e-17;
    bp.entropy = NAN;
    ab_check(&t, ab_builder_is_uniform(&b, &bp), "entropy unknown, r = S = 0: uniform");
    return ab_finish(&t);
}

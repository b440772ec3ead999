/* Review of issue 7: the Funk-Hecke form's error estimate is a worst-case rounding bound
 * (eps sum_l |g_l p_l(t_i)| sum_i |Q_il| v_i) that grows with N and with d (the orthonormal
 * p_l are large near t = +-1): at the uniform state, where the Funk-Hecke form is exact
 * (c_l = 0 for l >= 1) and gives the analytic spectrum to 5e-12, `kernel: funk-hecke` is
 * refused at 64 nodes (estimate 1.5e-8 > 1e-9, "it needs about 96 nodes") and at 128 nodes
 * (estimate 2.1e-7, "about 192"): the advice moves away from acceptance.
 * Reference: mu_3 = 0.060397160937869677 (mpmath), the top eigenvalue of sectors 0, 1, 3 of
 * SA d = 32, beta = 300, kappa = 0.002215699123. */
#include "attnbif/results.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>

int main(void)
{
    ab_tally t = {0};
    const int nodes[] = {64, 128};
    for (int k = 0; k < 2; k++) {
        char yaml[300], what[120];
        snprintf(yaml, sizeof yaml,
                 "model: SA\nd: 32\nbeta: 300\nkappa: 0.002215699123\ndiscretization: {nodes: %d, kernel: funk-hecke}\n"
                 "state: {type: uniform}\neigen: {sectors: [0, 1, 3]}\n",
                 nodes[k]);
        snprintf(what, sizeof what, "SA d=32 beta=300 uniform, %d nodes, funk-hecke", nodes[k]);
        ab_error err = {0};
        ab_spec spec;
        ab_solve_result res;
        if (!ab_check(&t, ab_spec_parse_string(yaml, "review.yaml", &spec, &err) == AB_OK, "%s: spec %s", what, err.msg))
            continue;
        if (!ab_check(&t, ab_solve_problem(&spec, NULL, NULL, &res, &err) == AB_OK, "%s: solve: %s", what, err.msg)) continue;
        double top = -INFINITY;
        for (int i = 0; i < res.spectrum.count; i++)
            if (res.spectrum.values[i].kind != AB_EIG_MASS) top = fmax(top, res.spectrum.values[i].re);
        ab_check_rel(&t, top, 0.060397160937869677, 1e-9, 0.0, what);
        ab_solve_result_free(&res);
    }
    return ab_finish(&t);
}

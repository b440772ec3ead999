/* Review of issue 7: ab_spectrum.n_unstable (and n_slow) are int, but multiplicities at large
 * d exceed INT_MAX: SA d = 256, beta = 1000, kappa = 5e-4 (below kappa_5 = 5.24e-4, above
 * kappa_6 = 4.59e-4; mpmath), uniform state, sectors 0..5: degrees l = 1..5 are unstable,
 * sum_{l=1..5} sum_{m<=l} N(255, m) = sum_{l=1..5} N(256, l) = 9708612927 unstable
 * eigenvalues with multiplicity. Today: n_unstable = 1118678335 (the count mod 2^32), exit 0,
 * also in summary.json. d = 4096 (issue 7's range) overflows already in sector 3. */
#include "attnbif/results.h"
#include "testutil.h"

#include <stdio.h>

int main(void)
{
    ab_tally t = {0};
    const char *what = "SA d=256 beta=1000 kappa=5e-4 uniform, nodes auto, sectors 0..5";
    ab_error err = {0};
    ab_spec spec;
    ab_solve_result res;
    if (ab_check(&t,
                 ab_spec_parse_string("model: SA\nd: 256\nbeta: 1000\nkappa: 5e-4\ndiscretization: {nodes: auto}\n"
                                      "state: {type: uniform}\neigen: {sectors: [0, 1, 2, 3, 4, 5]}\n",
                                      "review.yaml", &spec, &err) == AB_OK,
                 "%s: spec %s", what, err.msg) &&
        ab_check(&t, ab_solve_problem(&spec, NULL, NULL, &res, &err) == AB_OK, "%s: solve %s", what, err.msg)) {
        long long want = 9708612927LL, sum = 0;
        for (int i = 0; i < res.spectrum.count; i++) {
            const ab_eigenvalue *e = &res.spectrum.values[i];
            if (e->kind == AB_EIG_STABILITY && e->re > e->err) sum += e->multiplicity;
        }
        ab_check(&t, sum == want, "%s: the listed unstable eigenvalues count %lld with multiplicity (analytic %lld)", what, sum,
                 want);
        ab_check(&t, (long long)res.spectrum.n_unstable == want, "%s: n_unstable = %lld (analytic %lld)", what,
                 (long long)res.spectrum.n_unstable, want);
        ab_solve_result_free(&res);
    }
    return ab_finish(&t);
}

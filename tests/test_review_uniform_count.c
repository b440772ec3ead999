/* Review of issue 7: with `nodes: auto` the uniform state is "resolved" at the first node
 * count tried (its density is constant), but its spectrum is not: at large beta degrees far
 * above that count are unstable (kappa_l > kappa), so n_unstable and `stable` come out
 * wrong with success. Reference values: mpmath, kappa_l = I_l(beta) / (beta I_0(beta)). */
#include "attnbif/results.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The physics is well defined: either the right count, or an error that says what to change
 * (a node count). */
static void count(ab_tally *t, const char *what, const char *yaml, int want)
{
    ab_error err = {0};
    ab_spec spec;
    ab_solve_result res;
    if (!ab_check(t, ab_spec_parse_string(yaml, "review.yaml", &spec, &err) == AB_OK, "%s: spec %s", what, err.msg)) return;
    ab_status st = ab_solve_problem(&spec, NULL, NULL, &res, &err);
    if (st != AB_OK) {
        ab_check(t, strstr(err.msg, "nodes") != NULL, "%s: refused with a message naming the node count: %s", what, err.msg);
        return;
    }
    ab_check(t, res.spectrum.n_unstable == want && !res.spectrum.stable,
             "%s: n_unstable = %ld (analytic %d; %d nodes used)", what, res.spectrum.n_unstable, want, res.resolution.nodes);
    ab_solve_result_free(&res);
}

int main(void)
{
    ab_tally t = {0};
    /* SA d = 2, beta = 1e4, kappa = 5e-5 = 0.5 kappa_1: degrees l = 1..117 are unstable
     * (kappa_117 > 5e-5 > kappa_118), each once in sector 0 (cos) and once in sector 1 (sin):
     * 234. Today: 32 nodes, n_unstable = 62, exit 0. */
    count(&t, "SA d=2 beta=1e4 kappa=5e-5 uniform, nodes auto",
          "model: SA\nd: 2\nbeta: 10000\nkappa: 5e-5\ndiscretization: {nodes: auto}\nstate: {type: uniform}\n"
          "eigen: {sectors: [0, 1]}\n",
          234);
    /* SA d = 3, beta = 1e4 (issue range for d = 3), kappa = 5e-5 ~ 0.5 kappa_1: the unstable
     * degrees reach far beyond 32 (checked: l <= 117 for d = 2; for d = 3 the count over
     * sectors 0 and 1 is 3 per unstable degree). */
    count(&t, "SA d=3 beta=1e4 kappa=5e-5 uniform, nodes auto",
          "model: SA\nd: 3\nbeta: 10000\nkappa: 5e-5\ndiscretization: {nodes: auto}\nstate: {type: uniform}\n"
          "eigen: {sectors: [0, 1]}\n",
          351);
    return ab_finish(&t);
}

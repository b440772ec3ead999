/* Switching between basins in the simulator (docs/metastability.md): the exact n = 2 mean
 * residence times (one-dimensional diffusion of the overlap) against an independent
 * high-precision quadrature, the simulator's measured residence times against them within
 * their error bars, a run that sees too few transitions says so, and bad switching specs
 * are refused with file:line:field. */
#include "attnbif/sim.h"
#include "attnbif/spec.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    ab_init();
    ab_tally t = {0};
    ab_error err = {0};
    /* references: mpmath at 25 digits of the same double integrals (docs/metastability.md,
     * "Two tokens"), computed independently of the library's quadrature */
    static const struct {
        ab_model_kind kind;
        int d;
        double beta, kappa, lo, hi, t_low, t_high;
    } ref[] = {
        {AB_MODEL_USA, 3, 1.0, 0.3, 0.5, 0.9, 1.09271843405414, 9.40477955176554},
        {AB_MODEL_SA, 3, 4.0, 0.2, 0.5, 0.9, 3.21446088768406, 3.76491634849153},
        {AB_MODEL_USA, 4, 2.0, 0.5, 0.4, 0.8, 0.526067881766149, 4.07629820723126},
        {AB_MODEL_SA, 8, 4.0, 0.2, 0.3, 0.7, 0.543450867043439, 11.3266716134285},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        double tl = NAN, th = NAN;
        ab_status st = ab_pair_residence_times(ref[i].kind, ref[i].d, ref[i].beta, ref[i].kappa, ref[i].lo, ref[i].hi, &tl,
                                               &th, &err);
        char what[160];
        snprintf(what, sizeof what, "%s d = %d beta = %g kappa = %g: exact residence below r = %g (1e-9)",
                 ab_model_kind_name(ref[i].kind), ref[i].d, ref[i].beta, ref[i].kappa, ref[i].lo);
        ab_check(&t, st == AB_OK, "%s computed (%s)", what, st ? err.msg : "ok");
        ab_check_rel(&t, tl, ref[i].t_low, 1e-9, 0.0, what);
        snprintf(what, sizeof what, "%s d = %d beta = %g kappa = %g: exact residence above r = %g (1e-9)",
                 ab_model_kind_name(ref[i].kind), ref[i].d, ref[i].beta, ref[i].kappa, ref[i].hi);
        ab_check_rel(&t, th, ref[i].t_high, 1e-9, 0.0, what);
    }
    /* the simulator: n = 2, USA d = 3, beta = 1, kappa = 0.3, thresholds r = 0.5 and 0.9 */
    const char *text = "model: USA\nd: 3\nbeta: 1.0\nkappa: 0.3\n"
                       "simulation: {n: 2, dt: 0.00005, replicas: 8, seed: 11, t_burn: 5, t_measure: 600, sample_every: 1.0,\n"
                       "             switching: {observable: r, thresholds: [0.5, 0.9]}}\n";
    ab_spec spec;
    if (ab_spec_parse_string(text, "switch.yaml", &spec, &err)) {
        ab_check(&t, 0, "spec: %s", err.msg);
        return ab_finish(&t);
    }
    ab_sim_result res;
    ab_status st = ab_sim_run(&spec.model, spec.kappa, 2, &spec.simulation, 0, NULL, NULL, &res, &err);
    if (ab_check(&t, st == AB_OK && !res.incomplete, "n = 2 simulation with switching (%s)", st ? err.msg : res.note)) {
        ab_check(&t, res.transitions > 500 && res.residence_count[0] > 200 && res.residence_count[1] > 200,
                 "%ld transitions, %ld and %ld completed intervals", res.transitions, res.residence_count[0],
                 res.residence_count[1]);
        const double exact[2] = {ref[0].t_low, ref[0].t_high};
        for (int b = 0; b < 2; b++) {
            const double z = (res.residence[b].mean - exact[b]) / res.residence[b].err;
            ab_check(&t, fabs(z) < 3.0 && res.residence[b].err < 0.08 * exact[b],
                     "mean residence %s: %.5f +- %.3f against the exact %.5f: z = %.2f (|z| < 3)", b ? "above r = 0.9" : "below r = 0.5",
                     res.residence[b].mean, res.residence[b].err, exact[b], z);
        }
    }
    ab_sim_result_free(&res);
    /* too short to see enough switches: the residence times are null and the run says why */
    spec.simulation.t_measure = 5.0;
    spec.simulation.dt = 0.001;
    st = ab_sim_run(&spec.model, spec.kappa, 2, &spec.simulation, 0, NULL, NULL, &res, &err);
    ab_check(&t, st == AB_OK && res.incomplete && strstr(res.note, "switching:") && !isfinite(res.residence[1].mean),
             "a run with too few transitions is incomplete and says so: %s", res.note);
    ab_sim_result_free(&res);
    /* bad switching specs */
    static const struct {
        const char *sw, *field;
    } bad[] = {
        {"{observable: S, thresholds: [0.5, 0.9]}", "simulation.switching.observable"},
        {"{observable: r, thresholds: [0.9, 0.5]}", "simulation.switching.thresholds"},
        {"{observable: r, thresholds: [0.5]}", "simulation.switching.thresholds"},
        {"{observable: r, thresholds: [0.5, 1.5]}", "simulation.switching.thresholds"},
        {"{observable: r, levels: [0.5, 0.9]}", "levels"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char spec_text[512];
        snprintf(spec_text, sizeof spec_text, "model: USA\nd: 3\nbeta: 1.0\nkappa: 0.3\nsimulation:\n  n: 2\n  switching: %s\n",
                 bad[i].sw);
        st = ab_spec_parse_string(spec_text, "switch.yaml", &spec, &err);
        ab_check(&t, st == AB_ESPEC && strstr(err.msg, "switch.yaml:7:") && strstr(err.msg, bad[i].field),
                 "bad switching %zu refused at line 7 naming %s: %s", i, bad[i].field, err.msg);
    }
    return ab_finish(&t);
}

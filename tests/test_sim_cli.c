/* attnbif simulate end to end (single run, sweep with kappa_c_n.csv, bad input) and the
 * kappa_c estimator on data with a known answer. */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/sim.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    ab_init();
    ab_tally t = {0};
    /* kappa_c of an exact parabola is its vertex; a peak at the edge is refused. */
    double kappa[7], chi[7], err_chi[7], kc, kerr;
    for (int i = 0; i < 7; i++) {
        kappa[i] = 0.2 + 0.03 * i;
        chi[i] = 10.0 - 100.0 * (kappa[i] - 0.2913) * (kappa[i] - 0.2913);
        err_chi[i] = 0.01;
    }
    ab_error err = {0};
    ab_check(&t, ab_kappa_c_estimate(7, kappa, chi, err_chi, &kc, &kerr, &err) == AB_OK, "kappa_c estimate runs");
    ab_check_rel(&t, kc, 0.2913, 1e-12, 0.0, "kappa_c of an exact parabola is its vertex");
    ab_check(&t, kerr > 0.0 && kerr < 0.03, "its error (%.2g) is positive and below the grid spacing", kerr);
    for (int i = 0; i < 7; i++) chi[i] = kappa[i];
    ab_check(&t, ab_kappa_c_estimate(7, kappa, chi, err_chi, &kc, &kerr, &err) == AB_ENOCONV,
             "a peak at the edge of the sweep is reported: %s", err.msg);

    /* Binder crossing of two synthetic cumulant curves U_n(k) = 0.5 - 0.5 tanh(sqrt(n) (k - k_c))
     * (the mean-field finite-size form): they cross exactly at k_c; linear interpolation
     * between grid points 0.03 apart is exact to ~1e-3 there, the stated tolerance. */
    double us[7], ul[7], ue[7];
    for (int i = 0; i < 7; i++) {
        us[i] = 0.5 - 0.5 * tanh(8.0 * (kappa[i] - 0.2913));
        ul[i] = 0.5 - 0.5 * tanh(16.0 * (kappa[i] - 0.2913));
        ue[i] = 0.002;
    }
    ab_check(&t, ab_kappa_c_binder_crossing(7, kappa, us, ue, ul, ue, &kc, &kerr, &err) == AB_OK, "Binder crossing runs");
    ab_check(&t, fabs(kc - 0.2913) < 1e-3 && kerr > 0.0 && kerr < 0.01,
             "Binder crossing at %.5f +- %.2g (true 0.2913, tolerance 1e-3)", kc, kerr);
    ab_check(&t, ab_kappa_c_binder_crossing(7, kappa, ul, ue, us, ue, &kc, &kerr, &err) == AB_ENOCONV,
             "sizes swapped (the smaller system more ordered): no crossing reported: %s", err.msg);

    char tmp[] = "/tmp/attnbif-sim-XXXXXX", spec[512], out[512], args[2048], errfile[512], path[1024];
    static char buf[1 << 16], msg[1 << 14];
    if (!mkdtemp(tmp)) return 1;
    snprintf(errfile, sizeof errfile, "%s/err.txt", tmp);
    snprintf(spec, sizeof spec, "%s/sweep.yaml", tmp);
    snprintf(out, sizeof out, "%s/sweep", tmp);
    FILE *f = fopen(spec, "w");
    fprintf(f, "model: SA\nd: 3\nbeta: 1\nkappa: 0.3\nsimulation:\n  replicas: 2\n  t_burn: 1\n  t_measure: 2\n"
               "  sweep: {kappa: {min: 0.2, max: 0.5, count: 4}, n: [8, 16]}\n");
    fclose(f);
    snprintf(args, sizeof args, "simulate %s -q -o %s", spec, out);
    /* This sweep is too short for finite-n kappa_c: the estimates that cannot be made are
     * empty with a note, and that is exit 3 with every result written (docs/cli.md). */
    const int sweep_code = ab_run_program(args, errfile);
    ab_check(&t, sweep_code == 0 || sweep_code == 3, "a small sweep runs (exit %d)", sweep_code);
    const char *files[] = {"sweep.csv", "kappa_c_n.csv", "sweep.svg", "summary.json"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", out, files[i]);
        ab_check(&t, ab_exists(path), "sweep wrote %s", files[i]);
    }
    snprintf(path, sizeof path, "%s/kappa_c_n.csv", out);
    ab_slurp(path, buf, sizeof buf);
    int lines = 0;
    for (char *c = buf; *c; c++) lines += *c == '\n';
    ab_check(&t, strncmp(buf, "model,d,beta,n,kappa_c,error,method,kappa_1_mean_field,note\n", 60) == 0 && lines == 4 &&
                     strstr(buf, "SA,3,1,8,") && strstr(buf, "susceptibility_peak") && strstr(buf, "binder_crossing"),
             "kappa_c_n.csv: header, a susceptibility-peak row per n and a Binder-crossing row per pair of sizes");
    {
        /* every row: kappa_c empty <=> a non-empty note; exit 3 <=> some row is empty */
        int empty = 0, consistent = 1;
        for (char *line = strchr(buf, '\n') + 1; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            const char *c = line;
            for (int field = 0; field < 4 && c; field++) c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL;
            const char *note = strstr(line, ",\"");
            if (!c || !note) { consistent = 0; break; }
            const int is_empty = *c == ',', has_note = note[2] != '"';
            empty += is_empty;
            if (is_empty && !has_note) consistent = 0;
        }
        ab_check(&t, consistent && (sweep_code == 3) == (empty > 0),
                 "kappa_c_n.csv: %d estimates null, each with its reason; exit %d", empty, sweep_code);
        ab_slurp(errfile, msg, sizeof msg);
        ab_check(&t, empty == 0 || strstr(msg, "could not be computed"), "stderr says what could not be computed");
    }

    snprintf(spec, sizeof spec, "%s/one.yaml", tmp);
    snprintf(out, sizeof out, "%s/one", tmp);
    f = fopen(spec, "w");
    fprintf(f, "model: USA\nd: 2\nbeta: 1\nkappa: 0.5\nsimulation: {n: 8, replicas: 2, t_burn: 1, t_measure: 2}\n");
    fclose(f);
    snprintf(args, sizeof args, "simulate %s -q -o %s", spec, out);
    ab_check(&t, ab_run_program(args, errfile) == 0, "a single simulation runs");
    snprintf(path, sizeof path, "%s/summary.json", out);
    ab_slurp(path, buf, sizeof buf);
    ab_check(&t, strstr(buf, "\"q_mean\"") && strstr(buf, "\"q_err\"") && strstr(buf, "\"r_mean\"") && strstr(buf, "\"r_err\""),
             "summary.json has stats with means and standard errors");
    snprintf(path, sizeof path, "%s/histograms.csv", out);
    ab_check(&t, ab_exists(path), "histograms.csv written");

    /* bad input: exit 2, the field named, nothing written */
    struct {
        const char *yaml, *needle;
    } bad[] = {
        {"model: SA\nd: 3\nbeta: 1\nkappa: 0.3\nsimulation: {n: 8, replica: 2}\n", "simulation.replica: unknown key"},
        {"model: SA\nd: 3\nbeta: 1\nkappa: 0.3\nsimulation: {n: 1}\n", "simulation.n: must be an integer in [2, 100000]"},
        {"model: SA\nd: 3\nbeta: 4\nkappa: 0.3\nsimulation: {n: 8, dt: 0.5}\n", "simulation.dt = 0.5 is too large"},
        {"model: SA\nd: 3\nbeta: 1\nkappa: 0.3\nsimulation: {common_noise: {type: gaussian, strength: 1}}\n",
         "simulation.common_noise.type: must be one of rqf"},
        {"model: SA\nd: 3\nbeta: 1\nkappa: 0.3\n", "needs a `simulation` section"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(spec, sizeof spec, "%s/bad%zu.yaml", tmp, i);
        snprintf(out, sizeof out, "%s/bad%zu", tmp, i);
        f = fopen(spec, "w");
        fputs(bad[i].yaml, f);
        fclose(f);
        snprintf(args, sizeof args, "simulate %s -q -o %s", spec, out);
        int code = ab_run_program(args, errfile);
        ab_slurp(errfile, buf, sizeof buf);
        ab_check(&t, code == 2 && strstr(buf, bad[i].needle) && !ab_exists(out), "bad simulation spec %zu: exit %d, %s", i, code, buf);
    }
    snprintf(args, sizeof args, "rm -rf %s", tmp);
    if (system(args) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return ab_finish(&t);
}

/* The attnbif program end to end: bad specs give their own message and exit 2 with nothing
 * written; solve writes complete results; numerical failure exits 3 with no summary. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Number of entries in dir other than . and .. (-1 if it does not exist). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

int main(void)
{
    ab_tally t = {0};
    char tmp[] = "/tmp/attnbif-cli-XXXXXX";
    if (!mkdtemp(tmp)) return 1;
    char errfile[256], out[256], args[2048], msg[4096];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);

    /* Each broken spec: exit 2, a message naming file:line:column and the field, no output. */
    struct {
        const char *file, *needle;
    } bad[] = {
        {"syntax_error.yaml", "syntax_error.yaml:5:1: YAML syntax error"},
        {"unknown_key.yaml", "unknown_key.yaml:5:1: kapa: unknown key; did you mean 'kappa'?"},
        {"d_one.yaml", "d_one.yaml:2:4: d: must be an integer in [2, 4096] (got 1)"},
        {"d_not_int.yaml", "d_not_int.yaml:2:4: d: expected an integer"},
        {"kappa_zero.yaml", "kappa_zero.yaml:4:8: kappa: must be > 0 (got 0)"},
        {"beta_negative.yaml", "beta_negative.yaml:3:7: beta: must be >= 0 (got -1.5)"},
        {"beta_missing.yaml", "beta_missing.yaml:1:1: beta: required key is missing"},
        {"nodes_three.yaml", "nodes_three.yaml:5:38: discretization.nodes: must be an integer in [8, 4096] (got 3)"},
        {"model_unknown.yaml", "model_unknown.yaml:1:8: model: must be one of SA | USA (got 'XA')"},
        {"sector_range.yaml", "sector_range.yaml:6:22: eigen.sectors: sector 70 out of range"},
        {"state_extra_key.yaml", "state_extra_key.yaml:5:35: state.amplitude: only allowed with type: perturb"},
        {"does_not_exist.yaml", "does_not_exist.yaml: cannot open spec file: No such file or directory"},
        {"continuation_window.yaml", "continuation_window.yaml:5:15: continuation: the starting kappa = 0.1 (top-level key) is outside [min, max] = [0.2, 0.5]"},
        {"continuation_max.yaml", "continuation_max.yaml:5:50: continuation.max: must be > continuation.min (0.05)"},
        {"state_file_path.yaml", "state_file_path.yaml:5:8: state.path: required with type: file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int cmd = 0; cmd < 2; cmd++) {
            snprintf(args, sizeof args, "%s tests/data/bad_specs/%s -o %s", cmd ? "check" : "solve", bad[i].file, out);
            int code = ab_run_program(args, errfile);
            ab_slurp(errfile, msg, sizeof msg);
            ab_check(&t, code == 2, "%s %s exits 2 (got %d)", cmd ? "check" : "solve", bad[i].file, code);
            ab_check(&t, strstr(msg, bad[i].needle) != NULL, "%s message names file:line:col and field: %s", bad[i].file,
                     msg);
            ab_check(&t, !ab_exists(out), "%s: nothing written", bad[i].file);
        }
    }
    /* Bad command lines. */
    ab_check(&t, ab_run_program("frobnicate problems/default.yaml", errfile) == 2, "unknown command exits 2");
    ab_check(&t, ab_run_program("solve", errfile) == 2, "missing SPEC exits 2");
    ab_check(&t, ab_run_program("solve problems/default.yaml --bogus", errfile) == 2, "unknown option exits 2");

    /* A good solve: three files, no temp files left, the 1-cluster of problems/sa-d3-beta4-cluster.yaml is stable. */
    snprintf(args, sizeof args, "solve problems/sa-d3-beta4-cluster.yaml -q -o %s", out);
    ab_check(&t, ab_run_program(args, errfile) == 0, "solve problems/sa-d3-beta4-cluster.yaml exits 0");
    const char *files[] = {"state.csv", "spectrum.csv", "summary.json"};
    for (int i = 0; i < 3; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", out, files[i]);
        ab_check(&t, ab_exists(p), "%s written", files[i]);
    }
    ab_check(&t, count_entries(out) == 3, "exactly the three result files, no temp files (%d entries)", count_entries(out));
    char path[1024];
    snprintf(path, sizeof path, "%s/summary.json", out);
    ab_slurp(path, msg, sizeof msg);
    ab_check(&t, strstr(msg, "\"stable\": true") && strstr(msg, "\"converged\": true") && strstr(msg, "\"kind\": \"symmetry\""),
             "summary.json: stable, converged, a symmetry mode");

    /* Non-convergence: exit 3, advice in the message, no results. */
    char spec[512], out2[512];
    snprintf(spec, sizeof spec, "%s/noconv.yaml", tmp);
    snprintf(out2, sizeof out2, "%s/out2", tmp);
    FILE *f = fopen(spec, "w");
    fprintf(f, "model: SA\nd: 3\nbeta: 4\nkappa: 0.1\nstate: {type: cluster}\nnewton: {max_iter: 1, tol: 1e-14}\n");
    fclose(f);
    snprintf(args, sizeof args, "solve %s -q -o %s", spec, out2);
    int code = ab_run_program(args, errfile);
    ab_slurp(errfile, msg, sizeof msg);
    ab_check(&t, code == 3, "non-convergence exits 3 (got %d)", code);
    ab_check(&t, strstr(msg, "Newton did not converge") && strstr(msg, "newton.max_iter"), "message says what to change: %s", msg);
    ab_check(&t, count_entries(out2) <= 0, "no results written on failure");

    /* A cluster guess above kappa_1 (SA d=3 beta=1 is supercritical): an error, not a
     * silent fall-back to the uniform state. */
    f = fopen(spec, "w");
    fprintf(f, "model: SA\nd: 3\nbeta: 1\nkappa: 0.5\nstate: {type: cluster}\n");
    fclose(f);
    code = ab_run_program(args, errfile);
    ab_slurp(errfile, msg, sizeof msg);
    ab_check(&t, code == 3 && strstr(msg, "converged to the uniform state") && strstr(msg, "kappa_1 ="),
             "cluster guess above kappa_1 is reported, exit 3: %s", msg);
    ab_check(&t, count_entries(out2) <= 0, "no results written on failure");

    /* run: the default problem's diagram, complete. */
    char out3[512];
    snprintf(out3, sizeof out3, "%s/run", tmp);
    snprintf(args, sizeof args, "run problems/default.yaml -q -o %s", out3);
    code = ab_run_program(args, errfile);
    ab_check(&t, code == 0, "run problems/default.yaml exits 0 (got %d)", code);
    const char *run_files[] = {"branches.csv", "special_points.csv", "diagram.svg", "diagram.gp", "summary.json",
                               "profiles/BP1.csv", "profiles/EP2.csv"};
    for (int i = 0; i < 7; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", out3, run_files[i]);
        ab_check(&t, ab_exists(p), "run wrote %s", run_files[i]);
    }
    snprintf(path, sizeof path, "%s/branches.csv", out3);
    ab_slurp(path, msg, sizeof msg);
    const char *header = "branch,point,kappa,beta,r,S,free_energy,n_unstable,stable,label,nodes\n";
    ab_check(&t, strncmp(msg, header, strlen(header)) == 0,
             "branches.csv has the documented header");
    snprintf(path, sizeof path, "%s/summary.json", out3);
    static char big[1 << 16];
    ab_slurp(path, big, sizeof big);
    ab_check(&t, strstr(big, "\"type\": \"pitchfork\"") && strstr(big, "\"criticality\": \"supercritical\"") &&
                     strstr(big, "\"type\": \"transcritical\"") && strstr(big, "\"type\": \"fold\""),
             "summary.json lists a supercritical pitchfork, a transcritical point and a fold");

    /* Restart from a saved special point: the end of the 1-cluster branch (EP2, kappa = 0.04). */
    snprintf(spec, sizeof spec, "%s/restart.yaml", tmp);
    f = fopen(spec, "w");
    fprintf(f, "model: SA\nd: 3\nbeta: 4\nkappa: 0.04\ndiscretization: {nodes: 64}\nstate: {type: file, path: %s/profiles/EP2.csv}\n",
            out3);
    fclose(f);
    snprintf(out2, sizeof out2, "%s/restart", tmp);
    snprintf(args, sizeof args, "solve %s -q -o %s", spec, out2);
    code = ab_run_program(args, errfile);
    snprintf(path, sizeof path, "%s/summary.json", out2);
    ab_slurp(path, msg, sizeof msg);
    ab_check(&t, code == 0 && strstr(msg, "\"r\": 0.95069"), "restart from profiles/EP2.csv solves to the same cluster (r = 0.95069...)");

    /* A branch that fails still gives a complete, valid output, with the reason. */
    f = fopen(spec, "w");
    fprintf(f, "model: USA\nd: 3\nbeta: 690\nkappa: 1e300\ndiscretization: {nodes: 16}\nstate: {type: uniform}\n"
               "continuation: {parameter: beta, min: 600, max: 800, direction: 1, ds: 5, ds_min: 0.01, ds_max: 50, "
               "switch_branches: false}\n");
    fclose(f);
    snprintf(out2, sizeof out2, "%s/failing", tmp);
    snprintf(args, sizeof args, "run %s -q -o %s", spec, out2);
    code = ab_run_program(args, errfile);
    snprintf(path, sizeof path, "%s/summary.json", out2);
    ab_slurp(path, big, sizeof big);
    ab_check(&t, code == 0 && strstr(big, "\"end_reason\": \"stability analysis failed") && strstr(big, "\"warnings\""),
             "a failing branch ends with its reason in a complete summary.json");
    snprintf(path, sizeof path, "%s/diagram.svg", out2);
    ab_check(&t, ab_exists(path), "and the diagram is still drawn");

    /* run without a continuation section: exit 2. */
    ab_check(&t, ab_run_program("run problems/sa-d3-beta4-cluster.yaml -q", errfile) == 2, "run needs a continuation section (exit 2)");

    snprintf(args, sizeof args, "rm -rf %s", tmp);
    if (system(args) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return ab_finish(&t);
}

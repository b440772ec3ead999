/* Every figure has a gnuplot script beside it that redraws it from the CSV files (issue 16;
 * docs/output-run.md): a sphere state's density map from `solve` (density_map.gp, from
 * density_map.csv) and a simulation sweep (sweep.gp, from sweep.csv). Each script is run
 * in its directory when gnuplot is installed (CI installs gnuplot-nox) and must draw a
 * non-empty PNG; the diagram's, spectrum's, profiles' and overlay's scripts are checked in
 * test_figures. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void run_script(ab_tally *t, const char *dir, const char *name, long min_bytes)
{
    char path[512], cmd[1024], text[8192];
    snprintf(path, sizeof path, "%s/%s.gp", dir, name);
    ab_slurp(path, text, sizeof text);
    if (!ab_check(t, ab_exists(path) && strstr(text, ".csv"), "%s.gp written beside %s.svg, reading a CSV file", name, name))
        return;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        printf("skip %s.gp: gnuplot is not installed (Debian gnuplot-nox)\n", name);
        return;
    }
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot %s.gp 2>/dev/null", dir, name);
    const int ran = system(cmd) == 0;
    snprintf(path, sizeof path, "%s/%s-gnuplot.png", dir, name);
    const long bytes = file_size(path);
    ab_check(t, ran && bytes > min_bytes, "gnuplot %s.gp redraws it: %ld bytes (> %ld)", name, bytes, min_bytes);
}

int main(void)
{
    ab_tally t = {0};
    char dir[] = "/tmp/ab_scripts_XXXXXX";
    if (!ab_check(&t, mkdtemp(dir) != NULL, "temporary directory")) return ab_finish(&t);
    char spec[512], out[512], args[2048], errfile[512];
    snprintf(errfile, sizeof errfile, "%s/err.txt", dir);

    snprintf(spec, sizeof spec, "%s/map.yaml", dir);
    FILE *f = fopen(spec, "w");
    if (f) {
        fputs("model: SA\nd: 3\nbeta: 4\nkappa: 0.1\ndiscretization: {type: sphere, degree: 24}\nstate: {type: cluster}\n", f);
        fclose(f);
    }
    snprintf(out, sizeof out, "%s/map", dir);
    snprintf(args, sizeof args, "solve %s -q -o %s", spec, out);
    if (ab_check(&t, f && ab_run_program(args, errfile) == 0, "solve on the sphere")) run_script(&t, out, "density_map", 5000);

    snprintf(spec, sizeof spec, "%s/sweep.yaml", dir);
    f = fopen(spec, "w");
    if (f) {
        fputs("name: sw\nmodel: SA\nd: 3\nbeta: 1.0\nkappa: 0.3\nsimulation:\n  replicas: 2\n  seed: 7\n  dt: 0.01\n"
              "  t_burn: 1\n  t_measure: 2\n  sample_every: 0.1\n  sweep:\n    kappa: {min: 0.22, max: 0.40, count: 3}\n"
              "    n: [16, 32]\n",
              f);
        fclose(f);
    }
    snprintf(out, sizeof out, "%s/sweep", dir);
    snprintf(args, sizeof args, "simulate %s -q -o %s", spec, out);
    /* a sweep this short leaves some kappa_c estimates null (exit 3, said on stderr): the
     * figure and its data are written all the same */
    const int code = f ? ab_run_program(args, errfile) : -1;
    char path[600];
    snprintf(path, sizeof path, "%s/sweep.csv", out);
    if (ab_check(&t, (code == 0 || code == 3) && ab_exists(path), "simulate sweep (exit %d)", code))
        run_script(&t, out, "sweep", 10000);
    ab_remove_tree(dir);
    return ab_finish(&t);
}

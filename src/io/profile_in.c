/* Reader of saved density profiles (restart from a solve result or a special point). */
#include "io/profile_in.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ab_status ab_read_profile(const char *path, int *n_out, double **t_out, double **rho_out, ab_error *err)
{
    *n_out = 0;
    *t_out = *rho_out = NULL;
    FILE *f;
    ab_status ost = ab_open_input(path, "profile", AB_ESPEC, &f, err);
    if (ost) return ost;
    ab_status st = ab_read_profile_stream(f, path, n_out, t_out, rho_out, err);
    fclose(f);
    return st;
}

ab_status ab_read_profile_stream(FILE *f, const char *path, int *n_out, double **t_out, double **rho_out, ab_error *err)
{
    *n_out = 0;
    *t_out = *rho_out = NULL;
    int cap = 256, n[2] = {0, 0}, line_no = 0, header = 0;
    double *t[2] = {malloc(sizeof(double) * cap), malloc(sizeof(double) * cap)};
    double *rho[2] = {malloc(sizeof(double) * cap), malloc(sizeof(double) * cap)};
    int caps[2] = {cap, cap};
    char line[512];
    ab_status st = AB_OK;
    if (!t[0] || !t[1] || !rho[0] || !rho[1]) st = ab_error_set(err, AB_ENOMEM, "out of memory reading %s", path);
    while (!st && fgets(line, sizeof line, f)) {
        line_no++;
        if (line[0] == '#' || line[0] == '\n') continue;
        if (!header) {
            if (strncmp(line, "grid,t,theta,rho", 16) != 0) {
                st = ab_error_set(err, AB_ESPEC, "%s:%d: expected the header grid,t,theta,rho", path, line_no);
                break;
            }
            header = 1;
            continue;
        }
        char grid[16];
        double tv, theta, rv;
        if (sscanf(line, "%15[^,],%lf,%lf,%lf", grid, &tv, &theta, &rv) != 4) {
            st = ab_error_set(err, AB_ESPEC, "%s:%d: expected grid,t,theta,rho", path, line_no);
            break;
        }
        /* inf and NaN parse as numbers; a density profile has neither (an infinite density
         * would only fail later, as a numerical error, and far from its cause) */
        if (!isfinite(tv) || !isfinite(theta) || !isfinite(rv)) {
            st = ab_error_set(err, AB_ESPEC, "%s:%d: t, theta and rho must be finite numbers", path, line_no);
            break;
        }
        if (!(tv >= -1.0 && tv <= 1.0) || !(rv > 0.0)) {
            st = ab_error_set(err, AB_ESPEC, "%s:%d: need -1 <= t <= 1 and rho > 0 (got t = %g, rho = %g)", path, line_no,
                              tv, rv);
            break;
        }
        int k = strcmp(grid, "node") == 0 ? 0 : (strcmp(grid, "plot") == 0 ? 1 : -1);
        if (k < 0) {
            st = ab_error_set(err, AB_ESPEC, "%s:%d: grid must be node or plot (got '%s')", path, line_no, grid);
            break;
        }
        if (n[k] == caps[k]) {
            caps[k] *= 2;
            double *nt = realloc(t[k], sizeof(double) * caps[k]);
            if (nt) t[k] = nt;
            double *nr = realloc(rho[k], sizeof(double) * caps[k]);
            if (nr) rho[k] = nr;
            if (!nt || !nr) { st = ab_error_set(err, AB_ENOMEM, "out of memory reading %s", path); break; }
        }
        t[k][n[k]] = tv;
        rho[k][n[k]] = rv;
        n[k]++;
    }
    if (!st && n[0] + n[1] < 2) st = ab_error_set(err, AB_ESPEC, "%s: no density samples found", path);
    if (st) {
        free(t[0]); free(t[1]); free(rho[0]); free(rho[1]);
        return st;
    }
    int k = n[0] >= 2 ? 0 : 1;
    *n_out = n[k];
    *t_out = t[k];
    *rho_out = rho[k];
    free(t[1 - k]);
    free(rho[1 - k]);
    return AB_OK;
}

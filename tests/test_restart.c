/* Restarts from labelled points (issue 8): labels/<LABEL>.csv round-trips exactly, bad
 * label files fail naming file and line, the stored tangent and kernel vector solve their
 * equations, and a run restarted from each label of the default problem reproduces the
 * continuation from that point (docs/testing.md). */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/disc.h"
#include "attnbif/label.h"
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* A located special point is reproduced to this relative difference in its parameter
 * (both are located to ~1e-12 from different brackets). */
#define RESTART_PARAM_RTOL 1e-10
/* ... and its state (r, S) to this absolute difference. */
#define RESTART_STATE_ATOL 1e-8

#define DEFAULT "problems/default.yaml"

typedef struct {
    char type[24], label[16];
    double kappa, beta, r, S;
    int branch, point;
} sp_row;

typedef struct {
    int branch, point, nodes;
    double kappa, beta, r, S;
    char label[8];
} br_row;

/* The first `want` comma-separated fields of line (in place; empty fields kept). */
static int fields(char *line, char **f, int want)
{
    int n = 0;
    char *p = line;
    while (n < want) {
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

static int read_specials(const char *dir, sp_row *rows, int cap)
{
    char path[512], line[1024];
    snprintf(path, sizeof path, "%s/special_points.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0;
    if (!fgets(line, sizeof line, f)) { fclose(f); return -1; }
    while (n < cap && fgets(line, sizeof line, f)) {
        char *fl[11];
        if (fields(line, fl, 11) < 11) continue;
        sp_row *s = &rows[n++];
        snprintf(s->type, sizeof s->type, "%.23s", fl[0]);
        s->kappa = strtod(fl[1], NULL);
        s->beta = strtod(fl[2], NULL);
        s->branch = atoi(fl[3]);
        s->point = atoi(fl[4]);
        s->r = strtod(fl[8], NULL);
        s->S = strtod(fl[9], NULL);
        const char *base = strrchr(fl[10], '/');
        snprintf(s->label, sizeof s->label, "%.*s", (int)strcspn(base ? base + 1 : fl[10], "."), base ? base + 1 : fl[10]);
    }
    fclose(f);
    return n;
}

static int read_branches(const char *dir, br_row *rows, int cap)
{
    char path[512], line[1024];
    snprintf(path, sizeof path, "%s/branches.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0;
    if (!fgets(line, sizeof line, f)) { fclose(f); return -1; }
    while (n < cap && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *fl[11];
        if (fields(line, fl, 11) < 11) continue;
        br_row *b = &rows[n++];
        b->branch = atoi(fl[0]);
        b->point = atoi(fl[1]);
        b->kappa = strtod(fl[2], NULL);
        b->beta = strtod(fl[3], NULL);
        b->r = strtod(fl[4], NULL);
        b->S = strtod(fl[5], NULL);
        snprintf(b->label, sizeof b->label, "%.7s", fl[9]);
        b->nodes = atoi(fl[10]);
    }
    fclose(f);
    return n;
}

/* The spec tmpl (problems/default.yaml) with its state line replaced, and optionally one
 * more line replaced (a line starting with `from` becomes `to`). */
static int write_spec(const char *path, const char *tmpl, const char *state_line, const char *from, const char *to)
{
    FILE *in = fopen(tmpl, "r"), *out = fopen(path, "w");
    if (!in || !out) { if (in) fclose(in); if (out) fclose(out); return 0; }
    char line[512];
    while (fgets(line, sizeof line, in)) {
        if (strncmp(line, "state:", 6) == 0) fprintf(out, "%s\n", state_line);
        else if (from && strncmp(line, from, strlen(from)) == 0) fprintf(out, "%s\n", to);
        else fputs(line, out);
    }
    fclose(in);
    fclose(out);
    return 1;
}

static int same_bits(const double *a, const double *b, size_t n)
{
    if (!a || !b) return a == b;
    return memcmp(a, b, sizeof(double) * n) == 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) { fputs(text, f); fclose(f); }
}

/* The writer and reader: every double back bit for bit, absent vectors stay absent, and
 * broken files fail naming file and line. */
static void test_round_trip(ab_tally *t, const char *tmp)
{
    enum { N = 9 };
    double tt[N], x[N + 1], tau[N + 1], phi[N];
    const double special[] = {1.0 / 3.0, -0.0, 4.9e-324, DBL_MAX, -DBL_MIN, M_PI * 1e300, 0.1, -2.0 / 7.0, 1e-17, 6.02e23};
    for (int i = 0; i <= N; i++) {
        x[i] = special[i];
        tau[i] = sin(1.0 + i) / 7.0;
        if (i < N) { tt[i] = cos(M_PI * (i + 0.5) / N); phi[i] = exp(-(double)i) - 0.3; }
    }
    ab_label w;
    memset(&w, 0, sizeof w);
    snprintf(w.name, sizeof w.name, "BP12");
    w.format = AB_LABEL_FORMAT;
    w.type = AB_SP_TRANSCRITICAL;
    w.model = (ab_model){AB_MODEL_USA, 5, 2.0 / 3.0};
    w.kappa = x[N] = 0.123456789012345678;
    w.parameter = AB_PARAM_KAPPA;
    w.kernel = AB_KERNEL_LOG_DOMAIN;
    w.nodes = N;
    w.dim = N;
    w.branch = 3;
    w.point = 17;
    w.t = tt; w.x = x; w.tangent = tau; w.null_vector = phi;
    ab_error err = {0};
    ab_label r;
    char path[512];
    snprintf(path, sizeof path, "%s/BP12.csv", tmp);
    int ok = ab_label_write(tmp, &w, &err) == AB_OK && ab_label_read_file(path, "BP12", &r, &err) == AB_OK;
    if (ab_check(t, ok, "label BP12 written and read back: %s", ok ? "" : err.msg)) {
        ab_check(t, !strcmp(r.name, "BP12") && r.type == w.type && r.model.kind == w.model.kind && r.model.d == 5 &&
                        r.model.beta == w.model.beta && r.kappa == w.kappa && r.parameter == w.parameter &&
                        r.kernel == w.kernel && r.nodes == N && r.dim == N && r.branch == 3 && r.point == 17,
                 "round trip: header fields equal (beta = 2/3, kappa bit for bit)");
        ab_check(t, same_bits(r.t, tt, N) && same_bits(r.x, x, N + 1) && same_bits(r.tangent, tau, N + 1) &&
                        same_bits(r.null_vector, phi, N),
                 "round trip: t, x = (u, p), tangent, kernel vector bit for bit (with -0, subnormal, DBL_MAX)");
        ab_label_free(&r);
    }
    /* without tangent and kernel vector, continuing in beta */
    w.tangent = w.null_vector = NULL;
    w.parameter = AB_PARAM_BETA;
    x[N] = w.model.beta;
    snprintf(w.name, sizeof w.name, "EP3");
    snprintf(path, sizeof path, "%s/EP3.csv", tmp);
    ok = ab_label_write(tmp, &w, &err) == AB_OK && ab_label_read_file(path, NULL, &r, &err) == AB_OK;
    if (ab_check(t, ok, "label EP3 without tangent and kernel vector: %s", ok ? "" : err.msg)) {
        ab_check(t, !r.tangent && !r.null_vector && same_bits(r.x, x, N + 1) && r.x[N] == w.model.beta,
                 "absent vectors read back as NULL; p = beta when the parameter is beta");
        ab_label_free(&r);
    }
    /* Broken copies of BP12.csv. */
    static char text[1 << 16];
    snprintf(path, sizeof path, "%s/BP12.csv", tmp);
    ab_slurp(path, text, sizeof text);
    const size_t len = strlen(text);
    struct {
        const char *what, *frag;
        int cut;           /* keep this many bytes (0: whole file) */
        const char *from, *to; /* first occurrence replaced */
    } broken[] = {
        {"cut in the last number", "bad.csv:27: the line is not terminated: the file is truncated", -3, NULL, NULL},
        {"cut after a row", "bad.csv:26: truncated: 8 of dim = 9 rows", 0, NULL, NULL},
        {"no columns", "bad.csv:17: the file ends before the header i,t,u,tangent_u,null_vector", 0, "i,t,u", NULL},
        {"missing key", "bad.csv:18: the header lacks the key `nodes`", 0, "# nodes =", "# nodez ="},
        {"bad number", "bad.csv:19: u: expected a finite number", 0, ",0.33333333333333331,", ",0.3x,"},
        {"infinite number", "bad.csv:19: u: expected a finite number", 0, ",0.33333333333333331,", ",inf,"},
        {"row numbering", "bad.csv:20: i: expected 1", 0, "\n1,", "\n7,"},
        {"format 2", "bad.csv:2: format 2: this attnbif reads label format 1", 0, "format = 1", "format = 2"},
        {"other label", "bad.csv: holds label BP13, not BP12", 0, "label = BP12", "label = BP13"},
        {"bad type", "bad.csv:4: type: expected fold", 0, "type = transcritical", "type = cusp"},
        {"tangent given as none", "tangent_u: must be empty with tangent_p = none", 0, "tangent_p = ", "tangent_p = none\n# x = "},
    };
    char bpath[512];
    snprintf(bpath, sizeof bpath, "%s/bad.csv", tmp);
    for (size_t k = 0; k < sizeof broken / sizeof broken[0]; k++) {
        static char b[1 << 16];
        snprintf(b, sizeof b, "%s", text);
        if (broken[k].cut > 0) b[broken[k].cut] = '\0';
        if (broken[k].cut < 0) b[len + broken[k].cut] = '\0';
        if (k == 1) { /* drop the last row whole */
            char *last = strrchr(b, '\n');
            *last = '\0';
            last = strrchr(b, '\n');
            last[1] = '\0';
        }
        if (broken[k].from && !broken[k].to) {
            char *at = strstr(b, broken[k].from);
            if (at) *at = '\0';
        } else if (broken[k].from) {
            char *at = strstr(b, broken[k].from);
            if (at) {
                static char tail[1 << 16];
                snprintf(tail, sizeof tail, "%s", at + strlen(broken[k].from));
                snprintf(at, sizeof b - (size_t)(at - b), "%s%s", broken[k].to, tail);
            }
        }
        write_text(bpath, b);
        ab_status st = ab_label_read_file(bpath, "BP12", &r, &err);
        ab_check(t, st == AB_ESPEC && strstr(err.msg, broken[k].frag) != NULL, "%s: refused with \"%s\" (got: %s)",
                 broken[k].what, broken[k].frag, st ? err.msg : "accepted");
        if (!st) ab_label_free(&r);
    }
    ab_status st = ab_label_read(tmp, "BP7", &r, &err);
    ab_check(t, st == AB_ESPEC && strstr(err.msg, "labels/BP7.csv: cannot open label file: No such file or directory"),
             "a missing label names its file: %s", err.msg);
    st = ab_label_read(tmp, "../x", &r, &err);
    ab_check(t, st == AB_EINVAL, "'../x' is not a label name: %s", err.msg);
}

/* The stored tangent solves F_u t_u + F_p t_p = 0 and the kernel vector F_u phi = 0, at the
 * label's point, relative to |J| |v| (the Jacobian's own rounding ~1e-16 |J| |v|; at a
 * branch point only up to the accuracy of its location). */
static void test_vectors(ab_tally *t, const char *run, const sp_row *sp, int nsp)
{
    static ab_spec spec;
    ab_error err = {0};
    if (!ab_check(t, ab_spec_load("problems/default.yaml", &spec, &err) == AB_OK, "default.yaml loads")) return;
    int with_null = 0;
    for (int i = 0; i < nsp; i++) {
        ab_label lab;
        if (!ab_check(t, ab_label_read(run, sp[i].label, &lab, &err) == AB_OK, "%s reads: %s", sp[i].label, err.msg)) continue;
        ab_disc *disc = NULL;
        const size_t n = lab.dim;
        double *J = malloc(sizeof(double) * n * n), *Fp = malloc(sizeof(double) * n), *v = malloc(sizeof(double) * n);
        if (J && Fp && v && ab_disc_create_with_nodes(&spec, lab.nodes, &disc, &err) == AB_OK &&
            ab_disc_set_params(disc, (ab_params){lab.kappa, lab.model.beta}, &err) == AB_OK &&
            ab_disc_jacobian(disc, lab.x, J, &err) == AB_OK &&
            ab_disc_dparam(disc, lab.x, AB_PARAM_KAPPA, Fp, &err) == AB_OK) {
            double jn = 0.0;
            for (size_t a = 0; a < n; a++) {
                double row = 0.0;
                for (size_t b = 0; b < n; b++) row += fabs(J[a + b * n]);
                jn = fmax(jn, row);
            }
            for (int which = 0; which < 2; which++) {
                const double *vec = which ? lab.null_vector : lab.tangent;
                if (!vec) continue;
                double res = 0.0, vn = 0.0, tp = which ? 0.0 : vec[n];
                for (size_t a = 0; a < n; a++) {
                    double s = tp * Fp[a];
                    for (size_t b = 0; b < n; b++) s += J[a + b * n] * vec[b];
                    res = fmax(res, fabs(s));
                    vn = fmax(vn, fabs(vec[a]));
                }
                const double rel = res / (jn * fmax(vn, fabs(tp)));
                with_null += which;
                ab_check(t, rel <= 1e-9, "%s: |%s| = %.1e relative to |J| |v| (<= 1e-9)", sp[i].label,
                         which ? "F_u phi" : "F_u t_u + F_p t_p", rel);
            }
            ab_check(t, lab.tangent != NULL && lab.nodes == 96 && lab.dim == 96, "%s has a tangent and 96 nodes", sp[i].label);
        } else {
            ab_check(t, 0, "%s: Jacobian at the label: %s", sp[i].label, err.msg);
        }
        if (lab.null_vector && lab.tangent) {
            /* at a branch point of the uniform branch the tangent is (0, -1) exactly: a tangent
             * off along the kernel vector (as the singular bordered solve gives, 9e-4 at BP2)
             * pulls a restarted branch off the uniform state */
            double tu = 0.0;
            for (size_t a = 0; a < n; a++) tu = fmax(tu, fabs(lab.tangent[a]));
            ab_check(t, tu <= 1e-12 && fabs(fabs(lab.tangent[n]) - 1.0) <= 1e-12,
                     "%s: the uniform branch's tangent, max |t_u| = %.1e (<= 1e-12), t_p = %.17g", sp[i].label, tu,
                     lab.tangent[n]);
        }
        int bp0 = !strcmp(sp[i].type, "pitchfork") || !strcmp(sp[i].type, "transcritical");
        ab_check(t, (lab.null_vector != NULL) == (bp0 && sp[i].branch == 1),
                 "%s (%s): kernel vector stored exactly at the zonal branch points", sp[i].label, sp[i].type);
        free(J); free(Fp); free(v);
        ab_disc_destroy(disc);
        ab_label_free(&lab);
    }
    ab_check(t, with_null == 3, "3 labels carry a kernel vector (BP1-BP3 of the uniform branch)");
}

/* Restart `attnbif run` from every label of the run in dir `run` (made from spec tmpl,
 * continuing in parameter par on `nodes` nodes) and compare with it; counts the labels by
 * kind (LP, BP, HB, EP) into kinds; returns the largest relative difference in the
 * parameter of a special point met again. */
static double restart_all(ab_tally *t, const char *tmp, const char *tmpl, const char *run, int par, int nodes, int *kinds)
{
#define P(row) (par == AB_PARAM_BETA ? (row)->beta : (row)->kappa)
    const char *pname = par == AB_PARAM_BETA ? "beta" : "kappa";
    char errfile[256], out[256], spec[256], args[2048], state[768];
    static char msg[1 << 16];
    static sp_row sp[64], sr[64];
    static br_row br[4096];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", tmp);
    snprintf(out, sizeof out, "%s/restart", tmp);
    snprintf(spec, sizeof spec, "%s/restart.yaml", tmp);
    const int nsp = read_specials(run, sp, 64);
    ab_check(t, nsp >= 3, "%s has %d special points (>= 3)", run, nsp);
    double worst = 0.0;
    for (int i = 0; i < nsp; i++) {
        const sp_row *s = &sp[i];
        kinds[s->label[0] == 'L' ? 0 : s->label[0] == 'B' ? 1 : s->label[0] == 'H' ? 2 : 3]++;
        snprintf(state, sizeof state, "state: {type: label, path: %s, label: %s}", run, s->label);
        write_spec(spec, tmpl, state, NULL, NULL);
        snprintf(args, sizeof args, "run %s -q -o %s", spec, out);
        int code = ab_run_program(args, errfile);
        ab_slurp(errfile, msg, sizeof msg);
        if (!ab_check(t, code == 0, "restart from %s (%s, branch %d at %s = %.12g): exit %d %s", s->label, s->type, s->branch,
                      pname, P(s), code, msg))
            continue;
        const int nsr = read_specials(out, sr, 64), nbr = read_branches(out, br, 4096);
        /* row 0 of branch 1: the label's point itself, unchanged (it is converged already) */
        ab_check(t, nbr > 0 && br[0].branch == 1 && br[0].point == 0 && br[0].kappa == s->kappa && br[0].beta == s->beta &&
                         br[0].r == s->r && br[0].S == s->S && br[0].nodes == nodes,
                 "%s: the first row is the label's point (kappa, beta, r, S exact)", s->label);
        /* what the original branch met after the label, the restarted branch 1 meets */
        int want = 0, found = 0, got = 0;
        for (int k = 0; k < nsr; k++) got += sr[k].branch == 1;
        for (int j = 0; j < nsp; j++) {
            const sp_row *o = &sp[j];
            if (o->branch != s->branch || o->point <= s->point) continue;
            want++;
            int match = 0;
            for (int k = 0; k < nsr && !match; k++)
                match = sr[k].branch == 1 && !strcmp(sr[k].type, o->type) &&
                        fabs(P(&sr[k]) - P(o)) <= RESTART_PARAM_RTOL * fabs(P(o)) &&
                        fabs(sr[k].r - o->r) <= RESTART_STATE_ATOL && fabs(sr[k].S - o->S) <= RESTART_STATE_ATOL;
            found += match;
            double rel = NAN;
            for (int k = 0; k < nsr; k++)
                if (sr[k].branch == 1 && !strcmp(sr[k].type, o->type) && !(fabs(P(&sr[k]) - P(o)) / P(o) >= rel))
                    rel = fabs(P(&sr[k]) - P(o)) / P(o);
            if (match) worst = fmax(worst, rel);
            ab_check(t, match, "%s: the restarted branch meets %s (%s at %s = %.15g, r = %.9g, S = %.9g): %.1e relative",
                     s->label, o->label, o->type, pname, P(o), o->r, o->S, rel);
        }
        if (strcmp(s->type, "end") != 0) {
            ab_check(t, got == want && found == want, "%s: restarted branch 1 has %d special points, the original %d after %s",
                     s->label, got, want, s->label);
        } else {
            /* an end point at the window edge: one more row there, ending the branch */
            int rows1 = 0;
            for (int k = 0; k < nbr; k++) rows1 += br[k].branch == 1;
            ab_check(t, want == 0 && rows1 == 2 && nsr == 1 && !strcmp(sr[0].type, "end") && P(&sr[0]) == P(s) &&
                             fabs(sr[0].r - s->r) <= RESTART_STATE_ATOL && fabs(sr[0].S - s->S) <= RESTART_STATE_ATOL,
                     "%s: at the window edge the restart ends at once (%d rows, %d special point: the end at %s = %g)",
                     s->label, rows1, nsr, pname, P(s));
        }
    }
    return worst;
#undef P
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    char tmp[] = "/tmp/attnbif-restart-XXXXXX";
    if (!mkdtemp(tmp)) return 1;
    char errfile[256], run[256], out[256], spec[256], args[2048], state[768];
    static char msg[1 << 16];
    static sp_row sp[64], sr[64];
    static br_row br[4096];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", tmp);
    snprintf(run, sizeof run, "%s/orig", tmp);
    snprintf(out, sizeof out, "%s/restart", tmp);
    snprintf(spec, sizeof spec, "%s/restart.yaml", tmp);

    test_round_trip(&t, tmp);

    /* The default problem, then a restart from each of its labels. */
    snprintf(args, sizeof args, "run problems/default.yaml -q -o %s", run);
    if (!ab_check(&t, ab_run_program(args, errfile) == 0, "attnbif run problems/default.yaml")) return ab_finish(&t);
    const int nsp = read_specials(run, sp, 64);
    ab_check(&t, nsp >= 8, "the default problem has %d special points (>= 8)", nsp);
    {
        /* one label per special point: labels/ holds exactly their files, summary.json names them */
        static char listed[4096], summary[1 << 17];
        char path[512], one[32];
        snprintf(path, sizeof path, "%s/labels", run);
        const int nfiles = ab_list_dir(path, listed, sizeof listed);
        int named = 0;
        snprintf(path, sizeof path, "%s/summary.json", run);
        ab_slurp(path, summary, sizeof summary);
        for (int i = 0; i < nsp; i++) {
            snprintf(one, sizeof one, "\"label\": \"%s\"", sp[i].label);
            named += strstr(summary, one) != NULL;
        }
        int all_listed = nfiles == nsp;
        for (int i = 0; i < nsp; i++) {
            snprintf(one, sizeof one, "%s.csv", sp[i].label);
            all_listed &= strstr(listed, one) != NULL;
        }
        ab_check(&t, all_listed && named == nsp, "labels/ holds one file per special point (%d: %s) and summary.json names "
                 "each (%d)", nfiles, listed, named);
    }
    test_vectors(&t, run, sp, nsp);
    int kinds[4] = {0};
    double worst = restart_all(&t, tmp, DEFAULT, run, AB_PARAM_KAPPA, 96, kinds);
    /* A continuation in beta (the point is (u, beta)): SA d = 3 at kappa = 0.05 from beta =
     * 0.5 up, through kappa_2(beta) = 0.05 (transcritical) and kappa_3 (pitchfork). */
    char beta_spec[256], beta_run[256];
    snprintf(beta_spec, sizeof beta_spec, "%s/beta.yaml", tmp);
    snprintf(beta_run, sizeof beta_run, "%s/beta", tmp);
    write_text(beta_spec, "model: SA\nd: 3\nbeta: 0.5\nkappa: 0.05\ndiscretization: {nodes: 48}\nstate: {type: uniform}\n"
                          "continuation: {parameter: beta, min: 0.5, max: 8, direction: 1, ds: 0.5, ds_max: 1, max_branches: 4}\n");
    snprintf(args, sizeof args, "run %s -q -o %s", beta_spec, beta_run);
    if (ab_check(&t, ab_run_program(args, errfile) == 0, "a continuation in beta of SA d = 3 at kappa = 0.05"))
        worst = fmax(worst, restart_all(&t, tmp, beta_spec, beta_run, AB_PARAM_BETA, 48, kinds));
    /* USA d = 3, beta = 4, branch 1 only: restarted from its BP1 (kappa_1) with a tangent off
     * along the kernel vector, the branch left the uniform state by ~1e-11 and met two
     * spurious sector-1 "pitchforks" at kappa = 0.639 and 0.580 (the sector-1 rotation mode
     * switches on at that size). */
    char usa_spec[256], usa_run[256];
    snprintf(usa_spec, sizeof usa_spec, "%s/usa.yaml", tmp);
    snprintf(usa_run, sizeof usa_run, "%s/usa", tmp);
    write_spec(usa_spec, "problems/usa-d3-beta4.yaml", "state: {type: uniform}", "  max_branches:", "  switch_branches: false");
    snprintf(args, sizeof args, "run %s -q -o %s", usa_spec, usa_run);
    if (ab_check(&t, ab_run_program(args, errfile) == 0, "problems/usa-d3-beta4.yaml, branch 1"))
        worst = fmax(worst, restart_all(&t, tmp, usa_spec, usa_run, AB_PARAM_KAPPA, 96, kinds));
    printf("largest relative difference of a special point's parameter after a restart: %.1e\n", worst);
    ab_check(&t, kinds[0] >= 1 && kinds[1] >= 1 && kinds[3] >= 1, "labels of every kind met: LP %d, BP %d, EP %d", kinds[0],
             kinds[1], kinds[3]);

    /* solve from a label: the label's state, unchanged (LP1: a fold, where the Jacobian is
     * singular, and Newton must not move it). */
    for (int i = 0; i < nsp; i++) {
        if (strcmp(sp[i].type, "fold") != 0) continue;
        snprintf(state, sizeof state, "state: {type: label, path: %s, label: %s}", run, sp[i].label);
        write_spec(spec, DEFAULT, state, NULL, NULL);
        snprintf(args, sizeof args, "solve %s -q -o %s/solve", spec, tmp);
        int code = ab_run_program(args, errfile);
        snprintf(args, sizeof args, "%s/solve/summary.json", tmp);
        ab_slurp(args, msg, sizeof msg);
        char want[128];
        snprintf(want, sizeof want, "\"S\": %.17g", sp[i].S);
        ab_check(&t, code == 0 && strstr(msg, want) != NULL, "solve from %s: exit %d, %s (exact)", sp[i].label, code, want);
    }

    /* state.switch: a restart from a branch point follows the branches born there (AUTO's
     * ISW = -1): each special point they meet is one of the original diagram's (same type,
     * parameter to RESTART_PARAM_RTOL; r and S to 1e-6, because at a fold they vary like
     * the square root of the parameter's 1e-12 location error). */
    for (int i = 0; i < nsp; i++) {
        if (sp[i].branch != 1 || strncmp(sp[i].label, "BP", 2) != 0) continue;
        snprintf(state, sizeof state, "state: {type: label, path: %s, label: %s, switch: true}", run, sp[i].label);
        write_spec(spec, DEFAULT, state, NULL, NULL);
        snprintf(args, sizeof args, "run %s -q -o %s", spec, out);
        const int code = ab_run_program(args, errfile);
        const int nsr = code == 0 ? read_specials(out, sr, 64) : 0;
        int branches = 0, matched = 0, met = 0;
        for (int k = 0; k < nsr; k++) {
            if (sr[k].branch > branches) branches = sr[k].branch;
            if (sr[k].branch < 2) continue;
            met++;
            for (int j = 0; j < nsp; j++)
                if (!strcmp(sr[k].type, sp[j].type) && fabs(sr[k].kappa - sp[j].kappa) <= RESTART_PARAM_RTOL * sp[j].kappa &&
                    fabs(sr[k].r - sp[j].r) + fabs(sr[k].S - sp[j].S) <= 1e-6) {
                    matched++;
                    break;
                }
        }
        ab_check(&t, code == 0 && branches >= 2 && met >= 1 && matched == met,
                 "switch at %s: exit %d, %d branches, the %d special points on its new branches are the original's (%d)",
                 sp[i].label, code, branches, met, matched);
    }

    /* The label's node count wins: a 48-node run restarted by a 96-node spec stays on 48. */
    char run48[256];
    snprintf(run48, sizeof run48, "%s/n48", tmp);
    write_spec(spec, DEFAULT, "state: {type: uniform}", "discretization:", "discretization: {type: zonal, nodes: 48}");
    snprintf(args, sizeof args, "run %s -q -o %s", spec, run48);
    ab_check(&t, ab_run_program(args, errfile) == 0, "a 48-node run of the default problem");
    const int n48 = read_specials(run48, sp, 64);
    int bp2 = -1, bp3 = -1;
    for (int i = 0; i < n48; i++) {
        if (!strcmp(sp[i].label, "BP2")) bp2 = i;
        if (!strcmp(sp[i].label, "BP3")) bp3 = i;
    }
    if (ab_check(&t, bp2 >= 0 && bp3 >= 0 && sp[bp2].branch == 1 && sp[bp3].branch == 1, "it has BP2 and BP3 on branch 1")) {
        snprintf(state, sizeof state, "state: {type: label, path: %s, label: BP2}", run48);
        write_spec(spec, DEFAULT, state, NULL, NULL);
        snprintf(args, sizeof args, "run %s -o %s", spec, out);
        int code = ab_run_program(args, errfile);
        ab_slurp(errfile, msg, sizeof msg);
        ab_check(&t, code == 0 && strstr(msg, "BP2 was computed on 48 nodes: they replace discretization.nodes = 96"),
                 "restart from its BP2 with a 96-node spec: exit %d, says the label's 48 nodes replace 96", code);
        const int nbr = read_branches(out, br, 4096), nsr = read_specials(out, sr, 64);
        int all48 = nbr > 0;
        for (int k = 0; k < nbr; k++) all48 &= br[k].nodes == 48;
        ab_check(&t, all48, "every row of the restarted diagram is on 48 nodes (%d rows)", nbr);
        int match = 0;
        for (int k = 0; k < nsr; k++)
            match |= sr[k].branch == 1 && !strcmp(sr[k].type, "pitchfork") &&
                     fabs(sr[k].kappa - sp[bp3].kappa) <= RESTART_PARAM_RTOL * sp[bp3].kappa;
        ab_check(&t, match, "the restart meets the 48-node BP3 at kappa = %.15g", sp[bp3].kappa);
    }

    /* Refusals: exit 2, a message naming the spec's line and field, nothing written. */
    char trunc[600];
    snprintf(trunc, sizeof trunc, "%s/trunc", tmp);
    snprintf(args, sizeof args, "mkdir -p %s/labels && head -c 3000 %s/labels/BP2.csv > %s/labels/BP2.csv", trunc, run, trunc);
    if (system(args) != 0) fprintf(stderr, "could not make %s\n", trunc);
    struct {
        const char *what, *path, *label, *from, *to, *frag;
    } refuse[] = {
        {"another model", run, "BP2", "model:", "model: USA", "restart.yaml:11:8: state.label: BP2 of"},
        {"another d", run, "BP2", "d:", "d: 4", "is a point of SA, d = 3; the spec is SA, d = 4"},
        {"another beta", run, "BP2", "beta:", "beta: 5", "state.label: BP2 was computed at beta = 4, the spec has beta = 5"},
        {"continuation in beta", run, "BP2", "  parameter:", "  parameter: beta",
         "restart.yaml:14:3: continuation.parameter: the spec continues in beta, but BP2 was reached continuing in kappa"},
        {"label outside the window", run, "BP2", "  max:", "  max: 0.1",
         "continuation: BP2 is at kappa = 0.10924915929980897, outside [min, max] = [0.04, 0.1]"},
        {"missing label", run, "HB1", NULL, NULL, "state.label: " /* path follows */ "" },
        {"truncated label", trunc, "BP2", NULL, NULL, "labels/BP2.csv:"},
    };
    for (size_t k = 0; k < sizeof refuse / sizeof refuse[0]; k++) {
        snprintf(state, sizeof state, "state: {type: label, path: %s, label: %s}", refuse[k].path, refuse[k].label);
        write_spec(spec, DEFAULT, state, refuse[k].from, refuse[k].to);
        snprintf(args, sizeof args, "run %s -q -o %s/refused", spec, tmp);
        int code = ab_run_program(args, errfile);
        ab_slurp(errfile, msg, sizeof msg);
        snprintf(args, sizeof args, "%s/refused", tmp);
        int extra = 1;
        if (k == 5) extra = strstr(msg, "labels/HB1.csv: cannot open label file: No such file or directory") != NULL;
        if (k == 6) extra = strstr(msg, "truncated") != NULL;
        ab_check(&t, code == 2 && strstr(msg, refuse[k].frag) && extra && !ab_exists(args), "%s: exit %d (2), nothing written: %s",
                 refuse[k].what, code, msg);
    }
    ab_remove_tree(tmp);
    return ab_finish(&t);
}

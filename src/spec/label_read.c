/* labels/<LABEL>.csv: the reader of the labelled points a run can restart from (format in
 * docs/output-run.md; the writer is src/io/label.c), and the check of a `state: {type:
 * label}` spec against the label it names (docs/spec.md). Input, like the spec itself: the
 * solvers get the label from here and never open files. */
#define _POSIX_C_SOURCE 200809L
#include "attnbif/label.h"

#include "attnbif/io.h"
#include "spec/label_format.h"
#include "spec/label_in.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void ab_label_free(ab_label *label)
{
    if (!label) return;
    free(label->t);
    free(label->x);
    free(label->tangent);
    free(label->null_vector);
    label->t = label->x = label->tangent = label->null_vector = NULL;
}

/* ---- reader ----------------------------------------------------------------------- */

/* Header keys; REQUIRED ones must all be present. */
enum { K_FORMAT, K_LABEL, K_TYPE, K_MODEL, K_D, K_BETA, K_KAPPA, K_PARAMETER, K_TANGENT_P, K_NULL, K_DISC, K_KERNEL,
       K_NODES, K_DIM, K_BRANCH, K_POINT, K_COUNT };
static const char *const key_names[K_COUNT] = {"format", "label", "type", "model", "d", "beta", "kappa", "parameter",
                                              "tangent_p", "null_vector", "discretization", "kernel", "nodes", "dim",
                                              "branch", "point"};
#define REQUIRED_KEYS 14 /* format .. dim (kernel is optional: auto) */

static int lookup(const char *s, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* A complete, finite number. (ERANGE is not an error here: strtod reports it for the
 * subnormal numbers that %.17g writes and reads back exactly.) */
static int parse_number(const char *s, double *v)
{
    if (!*s) return 0;
    char *end;
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v);
}

static int parse_long(const char *s, long lo, long hi, long *v)
{
    if (!*s) return 0;
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return *end == '\0' && errno == 0 && *v >= lo && *v <= hi;
}

/* Split a row into exactly `want` comma-separated fields (in place). */
static int split(char *line, char **fields, int want)
{
    int n = 0;
    for (char *p = line;;) {
        if (n == want) return 0;
        fields[n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = '\0';
        p = c + 1;
    }
    return n == want;
}

typedef struct {
    const char *path;
    int line;
    ab_error *err;
} reader;

static ab_status bad(reader *r, const char *fmt, const char *what)
{
    return ab_error_set(r->err, AB_ESPEC, "%s:%d: %s%s", r->path, r->line, fmt, what ? what : "");
}

/* One "# key = value" header line into the label. */
static ab_status header_line(reader *r, char *text, ab_label *lab, int *seen, int *has_tangent, int *has_null, double *tp)
{
    char *eq = strstr(text, " = ");
    if (!eq) return AB_OK; /* a comment */
    *eq = '\0';
    char *key = text, *val = eq + 3;
    int k = lookup(key, key_names, K_COUNT);
    if (k < 0) return AB_OK; /* keys of later minor additions, e.g. program */
    if (seen[k]) return ab_error_set(r->err, AB_ESPEC, "%s:%d: header key `%s` given twice", r->path, r->line, key);
    seen[k] = 1;
    long iv;
    double dv;
    int e;
    switch (k) {
    case K_FORMAT:
        if (!parse_long(val, 1, 1000000, &iv)) return bad(r, "format: expected a positive integer", NULL);
        if (iv != AB_LABEL_FORMAT)
            return ab_error_set(r->err, AB_ESPEC, "%s:%d: format %ld: this attnbif reads label format %d", r->path, r->line,
                                iv, AB_LABEL_FORMAT);
        lab->format = (int)iv;
        break;
    case K_LABEL:
        if (!ab_label_name_valid(val)) return bad(r, "label: not a label name (LP, BP, HB or EP and a number)", NULL);
        snprintf(lab->name, sizeof lab->name, "%s", val);
        break;
    case K_TYPE:
        e = -1;
        for (int t = AB_SP_FOLD; t <= AB_SP_END; t++)
            if (strcmp(val, ab_special_type_name((ab_special_type)t)) == 0) e = t;
        if (e < 0) return bad(r, "type: expected fold, pitchfork, transcritical, hopf or end", NULL);
        lab->type = (ab_special_type)e;
        break;
    case K_MODEL:
        if (strcmp(val, "SA") == 0) lab->model.kind = AB_MODEL_SA;
        else if (strcmp(val, "USA") == 0) lab->model.kind = AB_MODEL_USA;
        else return bad(r, "model: expected SA or USA", NULL);
        break;
    case K_D:
        if (!parse_long(val, 2, 1000000, &iv)) return bad(r, "d: expected an integer >= 2", NULL);
        lab->model.d = (int)iv;
        break;
    case K_BETA:
        if (!parse_number(val, &dv) || dv < 0.0) return bad(r, "beta: expected a finite number >= 0", NULL);
        lab->model.beta = dv;
        break;
    case K_KAPPA:
        if (!parse_number(val, &dv) || !(dv > 0.0)) return bad(r, "kappa: expected a finite number > 0", NULL);
        lab->kappa = dv;
        break;
    case K_PARAMETER:
        if ((e = lookup(val, param_names, 2)) < 0) return bad(r, "parameter: expected kappa or beta", NULL);
        lab->parameter = (ab_param_id)e;
        break;
    case K_TANGENT_P:
        *has_tangent = strcmp(val, "none") != 0;
        if (*has_tangent && !parse_number(val, tp)) return bad(r, "tangent_p: expected a finite number or none", NULL);
        break;
    case K_NULL:
        if (strcmp(val, "yes") && strcmp(val, "no")) return bad(r, "null_vector: expected yes or no", NULL);
        *has_null = strcmp(val, "yes") == 0;
        break;
    case K_DISC:
        if (!strcmp(val, ab_disc_type_name(AB_DISC_ZONAL))) lab->disc = AB_DISC_ZONAL;
        else if (!strcmp(val, ab_disc_type_name(AB_DISC_SPHERE))) lab->disc = AB_DISC_SPHERE;
        else return bad(r, "discretization: expected zonal or sphere", NULL);
        break;
    case K_KERNEL:
        if ((e = lookup(val, kernel_names, 3)) < 0) return bad(r, "kernel: expected auto, funk-hecke or log-domain", NULL);
        lab->kernel = (ab_kernel_form)e;
        break;
    case K_NODES:
        if (!parse_long(val, 1, LABEL_DIM_MAX, &iv)) return bad(r, "nodes: expected a positive integer", NULL);
        lab->nodes = (int)iv;
        break;
    case K_DIM:
        if (!parse_long(val, 1, LABEL_DIM_MAX, &iv)) return bad(r, "dim: expected a positive integer", NULL);
        lab->dim = (size_t)iv;
        break;
    case K_BRANCH:
    case K_POINT:
        if (!parse_long(val, 0, 1000000000, &iv)) return bad(r, k == K_BRANCH ? "branch" : "point", ": expected an integer >= 0");
        *(k == K_BRANCH ? &lab->branch : &lab->point) = (int)iv;
        break;
    }
    return AB_OK;
}

static ab_status read_stream(FILE *f, reader *r, const char *name, ab_label *lab)
{
    int seen[K_COUNT] = {0}, has_tangent = 0, has_null = 0, in_table = 0;
    double tp = NAN;
    size_t rows = 0, cap = 0;
    char *line = NULL;
    ab_status st = AB_OK;
    for (ssize_t len; !st && (len = getline(&line, &cap, f)) >= 0;) {
        r->line++;
        /* every line ends with a newline: a last line without one is a file cut short,
         * whose last number may look complete */
        if (len == 0 || line[len - 1] != '\n') { st = bad(r, "the line is not terminated: the file is truncated", NULL); break; }
        line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
        if (!in_table) {
            if (line[0] == '#') {
                st = header_line(r, line + 1 + strspn(line + 1, " "), lab, seen, &has_tangent, &has_null, &tp);
                continue;
            }
            if (line[0] == '\0') continue;
            if (strcmp(line, COLUMNS) != 0) { st = ab_error_set(r->err, AB_ESPEC, "%s:%d: expected the header %s", r->path, r->line, COLUMNS); break; }
            for (int k = 0; k < REQUIRED_KEYS && !st; k++)
                if (!seen[k])
                    st = ab_error_set(r->err, AB_ESPEC, "%s:%d: the header lacks the key `%s` (a line `# %s = ...` above the columns)",
                                      r->path, r->line, key_names[k], key_names[k]);
            if (st) break;
            if (name && strcmp(name, lab->name) != 0) {
                st = ab_error_set(r->err, AB_ESPEC, "%s: holds label %s, not %s", r->path, lab->name, name);
                break;
            }
            const size_t n = lab->dim;
            lab->t = malloc(sizeof(double) * n);
            lab->x = malloc(sizeof(double) * (n + 1));
            if (has_tangent) lab->tangent = malloc(sizeof(double) * (n + 1));
            if (has_null) lab->null_vector = malloc(sizeof(double) * n);
            if (!lab->t || !lab->x || (has_tangent && !lab->tangent) || (has_null && !lab->null_vector)) {
                st = ab_error_set(r->err, AB_ENOMEM, "out of memory reading %s", r->path);
                break;
            }
            lab->x[n] = lab->parameter == AB_PARAM_KAPPA ? lab->kappa : lab->model.beta;
            if (has_tangent) lab->tangent[n] = tp;
            in_table = 1;
            continue;
        }
        if (rows == lab->dim) {
            st = ab_error_set(r->err, AB_ESPEC, "%s:%d: more rows than dim = %zu", r->path, r->line, lab->dim);
            break;
        }
        char *fld[5];
        long idx;
        if (!split(line, fld, 5)) { st = bad(r, "expected 5 fields: ", COLUMNS); break; }
        if (!parse_long(fld[0], 0, LABEL_DIM_MAX, &idx) || (size_t)idx != rows) {
            st = ab_error_set(r->err, AB_ESPEC, "%s:%d: i: expected %zu (rows are numbered from 0)", r->path, r->line, rows);
            break;
        }
        lab->t[rows] = NAN;
        if (fld[1][0] && !parse_number(fld[1], &lab->t[rows])) { st = bad(r, "t: expected a finite number or nothing", NULL); break; }
        if (!parse_number(fld[2], &lab->x[rows])) { st = bad(r, "u: expected a finite number", NULL); break; }
        if (has_tangent ? !parse_number(fld[3], &lab->tangent[rows]) : fld[3][0] != '\0') {
            st = bad(r, has_tangent ? "tangent_u: expected a finite number" : "tangent_u: must be empty with tangent_p = none", NULL);
            break;
        }
        if (has_null ? !parse_number(fld[4], &lab->null_vector[rows]) : fld[4][0] != '\0') {
            st = bad(r, has_null ? "null_vector: expected a finite number" : "null_vector: must be empty with null_vector = no", NULL);
            break;
        }
        rows++;
    }
    free(line);
    if (!st && ferror(f)) st = ab_error_set(r->err, AB_ESPEC, "%s: read error", r->path);
    if (!st && !in_table)
        st = ab_error_set(r->err, AB_ESPEC, "%s:%d: the file ends before the header %s: truncated or not a label file",
                          r->path, r->line, COLUMNS);
    if (!st && rows < lab->dim)
        st = ab_error_set(r->err, AB_ESPEC, "%s:%d: truncated: %zu of dim = %zu rows", r->path, r->line, rows, lab->dim);
    return st;
}

ab_status ab_label_read_stream(FILE *f, const char *path, const char *name, ab_label *lab, ab_error *err)
{
    memset(lab, 0, sizeof *lab);
    reader r = {path, 0, err};
    ab_status st = read_stream(f, &r, name, lab);
    if (st) ab_label_free(lab);
    return st;
}

ab_status ab_label_read_file(const char *path, const char *name, ab_label *lab, ab_error *err)
{
    memset(lab, 0, sizeof *lab);
    FILE *f;
    ab_status st = ab_open_input(path, "label file", AB_ESPEC, &f, err);
    if (st) return st;
    st = ab_label_read_stream(f, path, name, lab, err);
    fclose(f);
    return st;
}

ab_status ab_label_read(const char *run_dir, const char *name, ab_label *lab, ab_error *err)
{
    memset(lab, 0, sizeof *lab);
    if (!ab_label_name_valid(name))
        return ab_error_set(err, AB_EINVAL, "'%s' is not a label (LP, BP, HB or EP and a number, e.g. BP2)", name);
    char dir[AB_PATH_MAX + 16], path[AB_PATH_MAX + 48], file[AB_LABEL_NAME_MAX + 8];
    snprintf(file, sizeof file, "%s.csv", name);
    ab_status st = ab_path_join(dir, sizeof dir, run_dir, "labels", err);
    if (!st) st = ab_path_join(path, sizeof path, dir, file, err);
    if (st) return st;
    st = ab_label_read_file(path, name, lab, err);
    if (st == AB_ESPEC && err && strstr(err->msg, "cannot open")) {
        char msg[AB_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        ab_error_set(err, AB_ESPEC, "%.700s (the labels of a run are listed in %.200s/special_points.csv, column profile)",
                     msg, run_dir);
    }
    return st;
}

/* ---- a spec's label state ----------------------------------------------------------- */

static int close_to(double a, double b) { return fabs(a - b) <= AB_LABEL_PARAM_RTOL * fmax(fabs(a), fabs(b)); }

ab_status ab_spec_apply_label(ab_spec *spec, int for_run, const ab_messages *notes, ab_error *err)
{
    if (spec->state.type != AB_STATE_LABEL) return AB_OK;
    const char *sp = spec->path, *lname = spec->state.label;
    const int line = spec->marks.state.line, col = spec->marks.state.col;
    ab_label lab;
    ab_status st = ab_label_read(spec->state.path, lname, &lab, err);
    if (st) {
        ab_error_prefix(err, "%s:%d:%d: state.label: ", sp, line, col);
        return st == AB_ENOMEM ? st : AB_ESPEC;
    }
    if (lab.model.kind != spec->model.kind || lab.model.d != spec->model.d) {
        st = ab_error_set(err, AB_ESPEC, "%s:%d:%d: state.label: %s of %s is a point of %s, d = %d; the spec is %s, d = %d: "
                          "a restart needs the same model and d",
                          sp, line, col, lname, spec->state.path, ab_model_kind_name(lab.model.kind), lab.model.d,
                          ab_model_kind_name(spec->model.kind), spec->model.d);
        ab_label_free(&lab);
        return st;
    }
    if (lab.disc != spec->disc.type) {
        st = ab_error_set(err, AB_ESPEC, "%s:%d:%d: state.label: %s of %s was computed on the %s discretisation, the spec "
                          "asks for %s: a restart needs the same discretization.type",
                          sp, line, col, lname, spec->state.path, ab_disc_type_name(lab.disc),
                          ab_disc_type_name(spec->disc.type));
        ab_label_free(&lab);
        return st;
    }
    if (lab.dim != ab_disc_dim_for(lab.disc, lab.nodes)) {
        st = ab_error_set(err, AB_ESPEC, "%s:%d:%d: state.label: %s of %s has dim = %zu unknowns, but a %s discretisation "
                          "with %d nodes has %zu", sp, line, col, lname, spec->state.path, lab.dim,
                          ab_disc_type_name(lab.disc), lab.nodes, ab_disc_dim_for(lab.disc, lab.nodes));
        ab_label_free(&lab);
        return st;
    }
    const ab_continuation_spec *cs = &spec->continuation;
    if (for_run && cs->present) {
        const int cl = spec->marks.continuation.line, cc = spec->marks.continuation.col;
        const char *want = param_names[lab.parameter == AB_PARAM_BETA];
        if (cs->parameter != (int)lab.parameter) {
            st = ab_error_set(err, AB_ESPEC, "%s:%d:%d: continuation.parameter: the spec continues in %s, but %s was reached "
                              "continuing in %s and its tangent is in (u, %s): set parameter: %s",
                              sp, cl, cc, param_names[cs->parameter == 1], lname, want, want, want);
            ab_label_free(&lab);
            return st;
        }
        /* the fixed parameter defines the problem: a different one is another diagram */
        const int fixed_beta = lab.parameter == AB_PARAM_KAPPA;
        const double fs = fixed_beta ? spec->model.beta : spec->kappa, fl = fixed_beta ? lab.model.beta : lab.kappa;
        if (!close_to(fs, fl)) {
            st = ab_error_set(err, AB_ESPEC, "%s:%d:%d: state.label: %s was computed at %s = %.17g, the spec has %s = %.17g: "
                              "a run continuing in %s restarts at the label's %s (set %s: %.17g)",
                              sp, line, col, lname, fixed_beta ? "beta" : "kappa", fl, fixed_beta ? "beta" : "kappa", fs,
                              want, fixed_beta ? "beta" : "kappa", fixed_beta ? "beta" : "kappa", fl);
            ab_label_free(&lab);
            return st;
        }
        const double p = lab.x[lab.dim];
        if (p < cs->min || p > cs->max) {
            st = ab_error_set(err, AB_ESPEC, "%s:%d:%d: continuation: %s is at %s = %.17g, outside [min, max] = [%g, %g]",
                              sp, cl, cc, lname, want, p, cs->min, cs->max);
            ab_label_free(&lab);
            return st;
        }
    }
    /* Sectors were checked against the spec's node count; the label's may be smaller (the
     * sphere has one operator: nothing to check). */
    const int max_sector = spec->model.d == 2 ? 1 : lab.nodes - 2;
    for (int k = 0; k < spec->n_sectors && lab.disc == AB_DISC_ZONAL; k++)
        if (spec->sectors[k] > max_sector) {
            st = ab_error_set(err, AB_ESPEC, "%s:%d:%d: eigen.sectors: sector %d out of range for the %d nodes of %s "
                              "(need m <= nodes - 2 = %d)", sp, spec->marks.eigen.line, spec->marks.eigen.col,
                              spec->sectors[k], lab.nodes, lname, max_sector);
            ab_label_free(&lab);
            return st;
        }
    if (notes && notes->line) {
        char line[300];
        if (spec->kappa != lab.kappa) {
            snprintf(line, sizeof line, "note: %s is at kappa = %.17g: it replaces the spec's kappa = %.15g", lname, lab.kappa,
                     spec->kappa);
            notes->line(notes->ctx, line);
        }
        if (spec->model.beta != lab.model.beta) {
            snprintf(line, sizeof line, "note: %s is at beta = %.17g: it replaces the spec's beta = %.15g", lname,
                     lab.model.beta, spec->model.beta);
            notes->line(notes->ctx, line);
        }
        if (spec->disc.nodes != lab.nodes) {
            char given[16];
            if (spec->disc.nodes == AB_NODES_AUTO) snprintf(given, sizeof given, "auto");
            else snprintf(given, sizeof given, "%d", spec->disc.nodes);
            if (lab.disc == AB_DISC_SPHERE)
                snprintf(line, sizeof line, "note: %s was computed at degree %d: it replaces discretization.degree = %s",
                         lname, lab.nodes, given);
            else
                snprintf(line, sizeof line, "note: %s was computed on %d nodes: they replace discretization.nodes = %s",
                         lname, lab.nodes, given);
            notes->line(notes->ctx, line);
        }
    }
    spec->kappa = lab.kappa;
    spec->model.beta = lab.model.beta;
    spec->disc.nodes = lab.nodes;
    ab_label_free(&lab);
    return AB_OK;
}

/* Free-energy barriers (docs/metastability.md): at the fold of USA d = 3, beta = 4 the
 * barrier between the saddle and the stable 1-cluster vanishes and grows like
 * (kappa_fold - kappa)^{3/2} (states solved independently at kappa_fold - delta); the
 * barriers of the diagram equal those of independent solves; the uniform state's barrier
 * vanishes at the subcritical pitchfork like (kappa - kappa_1)^2; SA has none. */
#include "attnbif/barriers.h"
#include "attnbif/cont.h"
#include "attnbif/continuation.h"
#include "attnbif/disc.h"
#include "attnbif/model.h"
#include "attnbif/spec.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const usa_text =
    "model: USA\nd: 3\nbeta: 4.0\nkappa: 3.0\n"
    "discretization: {type: zonal, nodes: 48}\nstate: {type: uniform}\neigen: {sectors: [0, 1]}\n"
    "continuation: {parameter: kappa, min: 0.5, max: 3.0, direction: -1, ds: 0.01, ds_max: 0.02, max_branches: 2}\n";

/* The two states on either side of the fold sp at kappa_t (< kappa_fold), by continuation
 * from the fold along +-tangent and a corrector at kappa = kappa_t; their free energies. */
typedef struct {
    ab_disc *disc;
    ab_problem *prob;
    ab_linsol *ls;
    ab_cont *cont;
    size_t n;
    double *x, *pred, *normal, *out;
} side_solver;

static int solver_init(side_solver *s, const ab_spec *spec, const ab_special_point *sp)
{
    ab_error err = {0};
    memset(s, 0, sizeof *s);
    if (ab_disc_create_with_nodes(spec, sp->disc_nodes, &s->disc, &err)) return 0;
    if (ab_disc_set_params(s->disc, (ab_params){sp->kappa, sp->beta}, &err)) return 0;
    s->prob = ab_disc_problem(s->disc);
    s->n = ab_disc_dim(s->disc);
    ab_cont_params prm;
    ab_cont_params_default(&prm);
    prm.ds = 1e-3;
    prm.ds_min = 1e-9;
    prm.ds_max = 5e-3;
    if (ab_linsol_create(AB_LINSOL_DENSE, s->n + 2, NULL, &s->ls, &err)) return 0;
    if (ab_cont_alloc(s->prob, s->ls, &prm, &s->cont, &err)) return 0;
    s->x = calloc(4 * (s->n + 1), sizeof(double));
    s->pred = s->x + s->n + 1;
    s->normal = s->pred + s->n + 1;
    s->out = s->normal + s->n + 1;
    return s->x != NULL;
}

static void solver_free(side_solver *s)
{
    ab_cont_free(s->cont);
    ab_linsol_destroy(s->ls);
    ab_disc_destroy(s->disc);
    free(s->x);
}

/* Free energy of the state on side sign (+1/-1 along the fold's tangent) at kappa_t. */
static double energy_at(side_solver *s, const ab_special_point *sp, int sign, double kappa_t)
{
    ab_error err = {0};
    const size_t n = s->n;
    for (size_t i = 0; i <= n; i++) s->x[i] = sign * sp->tangent[i];
    ab_problem_set_param(s->prob, AB_PARAM_KAPPA, sp->x[n], &err);
    if (ab_cont_set(s->cont, sp->x, s->x, 0, &err)) return NAN;
    for (int step = 0; step < 100000; step++) {
        ab_cont_step_info info;
        ab_status st = ab_cont_step(s->cont, &info, &err);
        if (st == AB_ENOCONV) continue;
        if (st) return NAN;
        const double *x = ab_cont_point(s->cont), *xp = ab_cont_previous(s->cont);
        if (x[n] > kappa_t) continue;
        const double lam = (kappa_t - xp[n]) / (x[n] - xp[n]);
        for (size_t i = 0; i <= n; i++) s->pred[i] = (1 - lam) * xp[i] + lam * x[i];
        memset(s->normal, 0, sizeof(double) * (n + 1));
        s->normal[n] = 1.0;
        s->pred[n] = kappa_t;
        if (ab_cont_correct(s->cont, s->pred, s->normal, s->out, NULL, &err)) return NAN;
        ab_problem_set_param(s->prob, AB_PARAM_KAPPA, s->out[n], &err);
        ab_observables obs;
        if (ab_disc_observables(s->disc, s->out, &obs, &err)) return NAN;
        return obs.free_energy;
    }
    return NAN;
}

int main(void)
{
    ab_init();
    ab_tally t = {0};
    ab_spec spec;
    ab_error err = {0};
    ab_diagram d;
    if (ab_spec_parse_string(usa_text, "usa.yaml", &spec, &err) || ab_run_diagram(&spec, &(ab_run_opts){NULL}, &d, &err)) {
        ab_check(&t, 0, "USA run: %s", err.msg);
        return ab_finish(&t);
    }
    ab_barrier_set set;
    const ab_status bst = ab_diagram_barriers(&d, &set, &err);
    ab_check(&t, bst == AB_OK && set.n > 20, "USA d = 3 beta = 4: %d barrier rows", set.n);
    /* the 1-cluster fold */
    const ab_special_point *lp = NULL;
    for (int i = 0; i < d.n_special; i++)
        if (d.special[i].type == AB_SP_FOLD && (!lp || d.special[i].r > lp->r)) lp = &d.special[i];
    side_solver s;
    if (!ab_check(&t, lp && lp->x && lp->tangent && solver_init(&s, &spec, lp), "the fold and a solver at it")) {
        ab_diagram_free(&d);
        return ab_finish(&t);
    }
    const double kf = lp->kappa;
    /* (kappa_fold - kappa)^{3/2}: B / delta^{3/2} converges, its differences shrinking like
     * delta^{1/2} (halving for each quartering of delta) */
    double R[4], B[4];
    for (int i = 0; i < 4; i++) {
        const double delta = 0.04 * kf / pow(4.0, i);
        const double ea = energy_at(&s, lp, +1, kf - delta), eb = energy_at(&s, lp, -1, kf - delta);
        B[i] = fabs(ea - eb);
        R[i] = B[i] / pow(delta, 1.5);
        printf("     delta = %.3e: E = %.12g, %.12g, barrier %.6e, barrier / delta^1.5 = %.8f\n", delta, ea, eb, B[i], R[i]);
    }
    const double d1 = R[1] - R[0], d2 = R[2] - R[1], d3 = R[3] - R[2];
    ab_check(&t, isfinite(R[3]) && B[3] < B[2] && B[2] < B[1] && B[1] < B[0] && B[3] < B[0] / 400.0,
             "the barrier at the fold tends to 0 (%.3e at delta = %.2e; (1/64)^1.5 of the first is 1/512)", B[3],
             0.04 * kf / 64);
    /* the normal form's potential -mu x + a x^3/3 + b x^4 + ... has a barrier
     * (4/3) mu^{3/2} / sqrt(a) (1 + O(mu)): the differences of B / delta^{3/2} shrink 4-fold */
    ab_check(&t, fabs(d2 / d1 - 0.25) < 0.03 && fabs(d3 / d2 - 0.25) < 0.03,
             "barrier / (kappa_fold - kappa)^{3/2} converges, differences shrinking like delta: %.4f, %.4f (0.25 +- 0.03)",
             d2 / d1, d3 / d2);
    /* the diagram's barriers near the fold against independent solves: the saddle row's own
     * free energy, the stable state solved at the row's kappa */
    int compared = 0;
    double worst = 0.0;
    for (int i = 0; i < set.n; i++) {
        const ab_barrier *r = &set.rows[i];
        if (r->saddle_branch != lp->branch || r->stable_branch != lp->branch || r->kappa < kf - 0.15) continue;
        if (compared >= 4) continue;
        const double ea = energy_at(&s, lp, +1, r->kappa), eb = energy_at(&s, lp, -1, r->kappa);
        const double b_ind = fabs(ea - eb);
        worst = fmax(worst, fabs(r->barrier - b_ind) / b_ind);
        compared++;
    }
    ab_check(&t, compared >= 2 && worst < 1e-6, "%d barrier rows near the fold equal independent solves to %.2e (1e-6)",
             compared, worst);
    solver_free(&s);
    /* the uniform state's barrier at the subcritical pitchfork: (kappa - kappa_1)^2 */
    const double k1 = ab_kappa_l(AB_MODEL_USA, 3, 4.0, 1);
    double q[3];
    int nq = 0;
    for (int i = 0; i < set.n && nq < 3; i++) {
        const ab_barrier *r = &set.rows[i];
        if (r->stable_branch != 1 || r->saddle_branch == 1 || r->kappa - k1 > 0.02) continue;
        q[nq++] = r->barrier / ((r->kappa - k1) * (r->kappa - k1));
    }
    ab_check(&t, nq == 3 && fabs(q[2] / q[0] - 1.0) < 0.05,
             "uniform state's barrier / (kappa - kappa_1)^2 near the pitchfork: %.5f, %.5f, %.5f (constant to 5%%)",
             nq > 0 ? q[0] : NAN, nq > 1 ? q[1] : NAN, nq > 2 ? q[2] : NAN);
    /* every prefactor of a transition state is finite and positive */
    int bad = 0, ts = 0;
    for (int i = 0; i < set.n; i++) {
        if (set.rows[i].morse_index != 1) continue;
        ts++;
        bad += !(set.rows[i].prefactor > 0.0 && isfinite(set.rows[i].prefactor) && set.rows[i].barrier >= 0.0);
    }
    ab_check(&t, ts > 10 && bad == 0, "%d transition-state rows with a finite Kramers prefactor (%d bad)", ts, bad);
    ab_barrier_set_free(&set);
    ab_diagram_free(&d);
    /* SA has no free energy: no barriers */
    const char *sa = "model: SA\nd: 3\nbeta: 4.0\nkappa: 0.3\ndiscretization: {type: zonal, nodes: 32}\n"
                     "state: {type: uniform}\neigen: {sectors: [0, 1]}\n"
                     "continuation: {parameter: kappa, min: 0.15, max: 0.3, max_branches: 2}\n";
    if (!ab_spec_parse_string(sa, "sa.yaml", &spec, &err) && !ab_run_diagram(&spec, &(ab_run_opts){NULL}, &d, &err)) {
        ab_check(&t, ab_diagram_barriers(&d, &set, &err) == AB_OK && set.n == 0, "SA: no barriers (%d rows)", set.n);
        ab_barrier_set_free(&set);
        ab_diagram_free(&d);
    } else {
        ab_check(&t, 0, "SA run: %s", err.msg);
    }
    return ab_finish(&t);
}

/* Internal: what the discretisation adapter needs of the problem object beyond the API. */
#ifndef AB_PROBLEM_IMPL_H
#define AB_PROBLEM_IMPL_H

#include "attnbif/problem.h"

/* Record parameter values already applied to the underlying problem (its owner changed
 * them directly, e.g. ab_disc_set_params), without calling set_params again. */
void ab_problem_sync_params(ab_problem *problem, const double *params);

#endif

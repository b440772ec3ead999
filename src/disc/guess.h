/* Von Mises-Fisher concentrations for the initial guesses of cluster states (zonal and
 * sphere discretisations; docs/theory.md, "Stationary states"). */
#ifndef AB_VMF_H
#define AB_VMF_H

/* Concentration b of the von Mises-Fisher law that solves the beta = 0 self-consistency
 * b kappa = A_d(b) (A_d = I_{d/2}/I_{d/2-1}): a good cluster guess at every beta (1/kappa
 * where there is no cluster at beta = 0). */
double ab_vmf_concentration(int d, double kappa);
/* Concentration b of the von Mises-Fisher law with mean resultant length r: A_d(b) = r. */
double ab_vmf_for_r(int d, double r);

#endif

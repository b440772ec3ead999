#!/bin/sh
# Finite-size scaling plot of kappa_c(n) from a kappa_c_n.csv (attnbif simulate with a sweep):
# kappa_c against n^{-1/2} for each method, with error bars, the mean-field kappa_1 at
# n = infinity, and for each method the weighted straight-line fit kappa_c(inf) + a n^{-1/2}
# (printed on stdout too).  Usage: bench/plot_sim_fss.sh kappa_c_n.csv > docs/img/sim_fss.svg
set -eu
csv=${1:?usage: plot_sim_fss.sh kappa_c_n.csv}
awk -F, '
NR == 1 { next }
{
    m = $7; n = $4 + 0; kc = $5 + 0; e = $6 + 0; k1 = $8 + 0
    if (!(m in nm)) { methods[++nmeth] = m; nm[m] = 0 }
    i = ++nm[m]; X[m, i] = 1 / sqrt(n); Y[m, i] = kc; E[m, i] = e; N[m, i] = n
    model = $1; d = $2; beta = $3
}
END {
    W = 760; H = 520; L = 90; T = 60; PW = 520; PH = 380
    xmax = 0; ymin = k1; ymax = k1
    for (a = 1; a <= nmeth; a++) { m = methods[a]
        for (i = 1; i <= nm[m]; i++) {
            if (X[m, i] > xmax) xmax = X[m, i]
            if (Y[m, i] - E[m, i] < ymin) ymin = Y[m, i] - E[m, i]
            if (Y[m, i] + E[m, i] > ymax) ymax = Y[m, i] + E[m, i]
        }
    }
    xmax *= 1.1; pad = 0.1 * (ymax - ymin); ymin -= pad; ymax += pad
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\">\n", W, H
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"%d\" y=\"28\" text-anchor=\"middle\" font-size=\"15\">%s, d = %s, beta = %s: finite-n kappa_c against n^(-1/2)</text>\n", W / 2, model, d, beta
    printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", L, T, PW, PH
    for (k = 0; k <= 5; k++) {
        xv = xmax * k / 5; yv = ymin + (ymax - ymin) * k / 5
        px = L + PW * k / 5; py = T + PH - PH * k / 5
        printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">%.3f</text>\n", px, T + PH, px, T + PH + 5, px, T + PH + 18, xv
        printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"black\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.3f</text>\n", L - 5, py, L, py, L - 8, py + 4, yv
    }
    printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">n^(-1/2)</text>\n", L + PW / 2, T + PH + 40
    printf "<text x=\"20\" y=\"%d\" font-size=\"13\" transform=\"rotate(-90 20 %d)\" text-anchor=\"middle\">kappa_c(n)</text>\n", T + PH / 2, T + PH / 2
    py = T + PH - PH * (k1 - ymin) / (ymax - ymin)
    printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#555\" stroke-dasharray=\"4,3\"/>\n", L, py, L + PW, py
    printf "<text x=\"%d\" y=\"%.1f\" font-size=\"11\">mean-field kappa_1 = %.5f</text>\n", L + PW + 6, py + 4, k1
    split("#1f77b4 #d62728 #2ca02c #9467bd", col, " ")
    for (a = 1; a <= nmeth; a++) { m = methods[a]; c = col[a]
        sw = sx = sy = sxx = sxy = 0
        for (i = 1; i <= nm[m]; i++) {
            px = L + PW * X[m, i] / xmax
            py = T + PH - PH * (Y[m, i] - ymin) / (ymax - ymin)
            p1 = T + PH - PH * (Y[m, i] - E[m, i] - ymin) / (ymax - ymin)
            p2 = T + PH - PH * (Y[m, i] + E[m, i] - ymin) / (ymax - ymin)
            printf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", px, p1, px, p2, c, px, py, c
            w = 1 / (E[m, i] * E[m, i]); sw += w; sx += w * X[m, i]; sy += w * Y[m, i]
            sxx += w * X[m, i] * X[m, i]; sxy += w * X[m, i] * Y[m, i]
        }
        label = m
        if (nm[m] >= 3) {
            det = sw * sxx - sx * sx; b = (sw * sxy - sx * sy) / det; a0 = (sy - b * sx) / sw
            ea0 = sqrt(sxx / det)
            chi2 = 0
            for (i = 1; i <= nm[m]; i++) chi2 += (Y[m, i] - a0 - b * X[m, i]) ^ 2 / E[m, i] ^ 2
            printf "%s: kappa_c(inf) = %.4f +- %.4f, slope %.3f, chi2 = %.2f for %d dof\n", m, a0, ea0, b, chi2, nm[m] - 2 > "/dev/stderr"
            y0 = T + PH - PH * (a0 - ymin) / (ymax - ymin); y1 = T + PH - PH * (a0 + b * xmax - ymin) / (ymax - ymin)
            printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"6,3\"/>\n", L, y0, L + PW, y1, c
            label = sprintf("%s (fit: %.4f +- %.4f at n = inf)", m, a0, ea0)
        }
        printf "<circle cx=\"%d\" cy=\"%d\" r=\"3.5\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>\n", L + 10, T + 14 + 16 * (a - 1), c, L + 18, T + 18 + 16 * (a - 1), label
    }
    printf "</svg>\n"
}' "$csv"

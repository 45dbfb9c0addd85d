#!/usr/bin/env python3
"""Fits the polynomial coefficients of MathF.gelu, geluDerivative (GS, GA, GB, DS, DA, DB).

Not run by the build: it documents where the constants come from and regenerates them
(python3 gelu_fit.py, with mpmath and numpy; about a minute). Each function is fitted for relative
error by Lawson's iteratively reweighted least squares on Chebyshev points (in 80-bit long double,
the reference values from mpmath at 30 digits); the constant term is the float nearest the function
at the expansion centre (chosen among nearby floats for the smallest rounding of that constant); the
other coefficients are then rounded to float one at a time, lowest degree first, each to one of its
three nearest floats, keeping the 6 best partial choices (by maximum relative error) and refitting
the free ones after each step. The printed errors are the approximation errors in units of 2^-24
(before the rounding of the float evaluation itself); MathFGeluTest measures the functions.

With t = |z|, Q(t) = Phi(-t) and F(t) = Q(t) e^(t^2/2):
  H(t) = t F(t)                     gelu(-t) = -e^(-t^2/2) H(t),  gelu(t) = t - e^(-t^2/2) H(t)
  D(t) = t/sqrt(2 pi) - F(t)        gelu'(-t) = -e^(-t^2/2) D(t), gelu'(t) = 1 + e^(-t^2/2) D(t)
  K(t) = D(t)/(t - t0), D(t0) = 0
  GS(s) = (Phi(z) - 1/2)/z,  DS(s) = (gelu'(z) - 1/2)/z,  s = z^2
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 30
C = 1 / mp.sqrt(2 * mp.pi)
LD = np.longdouble
ULP = 2.0 ** -24


def Q(t): return mp.erfc(t / mp.sqrt(2)) / 2
def F(t): return Q(t) * mp.exp(t * t / 2)
def H(t): return t * F(t)
def D(t): return t * C - F(t)


T0 = mp.findroot(D, 0.75)


def K(t): return D(t) / (t - T0) if abs(t - T0) > 1e-25 else mp.diff(D, T0)


def f32(x): return np.float32(float(x))


def solve(A, b):
    n = len(b); A = A.copy(); b = b.copy()
    for i in range(n):
        p = i + np.argmax(abs(A[i:, i])); A[[i, p]] = A[[p, i]]; b[[i, p]] = b[[p, i]]
        for j in range(i + 1, n):
            f = A[j, i] / A[i, i]; A[j, i:] -= f * A[i, i:]; b[j] -= f * b[i]
    x = np.zeros(n, dtype=LD)
    for i in range(n - 1, -1, -1):
        x[i] = (b[i] - np.dot(A[i, i + 1:], x[i + 1:])) / A[i, i]
    return x


class Fitter:
    def __init__(self, f, lo, hi, centre, n=300):
        xs = [lo + (hi - lo) * (1 - mp.cos(mp.pi * (i + 0.5) / n)) / 2 for i in range(n)] + [mp.mpf(lo), mp.mpf(hi)]
        xs += [lo + (hi - lo) * i / 600 for i in range(601)]
        self.y = np.array([LD(mp.nstr(f(x), 25)) for x in xs], dtype=LD)
        self.v = np.array([LD(mp.nstr(x - centre, 25)) for x in xs], dtype=LD)
        self.nfit = n + 2

    def err(self, coef):
        p = np.zeros_like(self.v)
        for c in reversed(coef): p = p * self.v + LD(c)
        return abs((p - self.y) / self.y)

    def lawson(self, deg, fixed, iters=40):
        free = [k for k in range(deg + 1) if k not in fixed]
        y = self.y[:self.nfit]; v = self.v[:self.nfit]
        r = y - sum(LD(c) * v ** k for k, c in fixed.items())
        M = np.stack([v ** k / y for k in free], axis=1); rr = r / y
        w = np.ones(len(y), dtype=LD) / len(y); best = None
        for it in range(iters):
            A = (M * w[:, None]).T @ M; b = (M * w[:, None]).T @ rr
            c = solve(A, b)
            coef = [None] * (deg + 1)
            for k, cv in fixed.items(): coef[k] = LD(cv)
            for i, k in enumerate(free): coef[k] = c[i]
            e = self.err(coef); m = e.max()
            if best is None or m < best[0]: best = (m, coef)
            ef = e[:self.nfit]; w = w * ef; w /= w.sum()
        return best


def fit(fitter, deg, c0, beam=6):
    m, coef = fitter.lawson(deg, {0: f32(c0)})
    cands = [(m, {0: f32(c0)}, coef)]
    for k in range(1, deg + 1):
        new = []
        for m, fixed, coef in cands:
            base = f32(coef[k])
            for o in {base, np.nextafter(base, np.float32(np.inf)), np.nextafter(base, np.float32(-np.inf))}:
                fx = dict(fixed); fx[k] = o
                if k < deg:
                    m2, c2 = fitter.lawson(deg, fx, 25)
                else:
                    c2 = [LD(fx[j]) for j in range(deg + 1)]; m2 = fitter.err(c2).max()
                new.append((m2, fx, c2))
        new.sort(key=lambda t: t[0]); cands = new[:beam]
    m, fx, c = cands[0]
    return float(m) / ULP, [fx[j] for j in range(deg + 1)]


def best_centre(f, candidates):
    """The candidate whose function value is closest (relatively) to a float."""
    def rounding(c):
        y = f(c); return abs(y - mp.mpf(float(f32(y)))) / abs(y)
    return min(candidates, key=rounding)


def show(name, centre, err, coef):
    centre_text = "" if centre is None else "  centre " + repr(f32(centre)).replace("np.float32(", "").replace(")", "") + "f"
    print("%s: max relative error %.3f x 2^-24%s" % (name, err, centre_text))
    print("   " + ", ".join(repr(np.float32(c)).replace("np.float32(", "").replace(")", "") + "f" for c in coef))


def tail_t(name, g, lo, hi, deg):
    """A polynomial in t - centre; the centre has few bits (a multiple of 1/4096 within 1/64 of the middle)."""
    mid = float((lo + hi) / 2)
    cands = [mp.mpf(round(mid * 64) / 64 + i / 4096.0) for i in range(-64, 65)]
    c = best_centre(g, cands)
    err, coef = fit(Fitter(g, mp.mpf(lo), mp.mpf(hi), c), deg, f32(g(c)))
    show(name, c, err, coef)


def tail_u(name, g, lo, hi, deg):
    """A polynomial in u - centre with u = 1/(1 + t)."""
    ulo, uhi = 1 / (1 + mp.mpf(hi)), 1 / (1 + mp.mpf(lo))
    gu = lambda u: g(1 / u - 1)
    mid = float((ulo + uhi) / 2)
    cands = [mp.mpf(float(f32(mid - 0.02 + 0.04 * i / 300))) for i in range(300)]
    c = best_centre(gu, cands)
    err, coef = fit(Fitter(gu, ulo, uhi, c), deg, f32(gu(c)))
    show(name, c, err, coef)


def small(name, g, value0, tmax, deg):
    """value0 + s p1(s), s = z^2 <= tmax^2, p1 fitted for relative error."""
    p1 = lambda s: (g(s) - value0) / s if s > mp.mpf(10) ** -12 else (g(mp.mpf(10) ** -12) - value0) / mp.mpf(10) ** -12
    err, coef = fit(Fitter(p1, mp.mpf(0), mp.mpf(tmax) ** 2, mp.mpf(0)), deg - 1, f32(p1(mp.mpf(0))))
    show(name + " (error of the part beyond the constant)", None, err, [f32(value0)] + coef)


def gs(s):
    z = mp.sqrt(s); return (mp.ncdf(z) - mp.mpf(1) / 2) / z


def ds(s): return gs(s) + mp.exp(-s / 2) * C


if __name__ == "__main__":
    print("t0 = %s: T0_HI %rf, T0_LO %r" % (mp.nstr(T0, 25), float(f32(T0)), float(f32(T0 - mp.mpf(float(f32(T0)))))))
    small("GS", gs, C, 0.5, 5)
    tail_t("GA", H, 0.5, 2.5, 10)
    tail_u("GB", H, 2.5, 15, 7)
    small("DS", ds, 2 * C, 0.25, 4)
    tail_t("DA", K, 0.25, 2.5, 10)
    tail_u("DB", K, 2.5, 15, 6)

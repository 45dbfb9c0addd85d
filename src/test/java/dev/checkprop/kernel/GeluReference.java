package dev.checkprop.kernel;

/**
 * GELU and its two derivatives in double precision, by methods unrelated to {@link MathF}'s: the
 * normal distribution function &Phi; from its power series near 0 and from Laplace's continued
 * fraction for the Mills ratio in the tails, e<sup>x</sup> from {@link StrictMath#exp}. Within about
 * 1e-13 relative (the series cancels a little just above z = &minus;3; 1e-15 elsewhere below |z| = 3),
 * a hundred thousand times finer than a float's ulp; checked against published values of erf and
 * erfc in {@link MathFGeluTest}.
 */
public final class GeluReference {

    private GeluReference() {
    }

    static final double INV_SQRT_2PI = 0.3989422804014327;

    /** |z| from which the continued fraction is used (and below which the series). */
    private static final double SPLIT = 3;

    /** The density &phi;(z) = e<sup>&minus;z&sup2;/2</sup> / &radic;(2&pi;). */
    public static double phi(double z) {
        return INV_SQRT_2PI * StrictMath.exp(-0.5 * z * z);
    }

    /**
     * (&Phi;(z) &minus; 1/2) / &phi;(z) = z + z&sup3;/3 + z<sup>5</sup>/(3&middot;5) + &hellip; (all terms of z's sign,
     * converging for every z; used for |z| &lt; 3, where it needs at most 60 terms).
     */
    private static double series(double z) {
        double term = z;
        double sum = z;
        final double s = z * z;
        for (int k = 1; k < 400; k++) {
            term *= s / (2 * k + 1);
            final double next = sum + term;
            if (next == sum) {
                break;
            }
            sum = next;
        }
        return sum;
    }

    /**
     * The Mills ratio R(t) = &Phi;(&minus;t)/&phi;(t) for t &ge; 3, by Laplace's continued fraction
     * 1/(t + 1/(t + 2/(t + 3/(t + &hellip;)))) evaluated backwards from enough terms for 1e-16 at t = 3.
     */
    static double mills(double t) {
        final int terms = 40 + (int) (1500 / (t * t));
        double f = t;
        for (int k = terms; k >= 1; k--) {
            f = t + k / f;
        }
        return 1 / f;
    }

    /** &Phi;(z), the standard normal distribution function. */
    public static double cdf(double z) {
        if (Math.abs(z) < SPLIT) {
            return 0.5 + phi(z) * series(z);
        }
        return z < 0 ? phi(z) * mills(-z) : 1 - phi(z) * mills(z);
    }

    /** erf(x) = 2&Phi;(x&radic;2) &minus; 1, for the checks against published values. */
    public static double erf(double x) {
        return 2 * cdf(x * Math.sqrt(2)) - 1;
    }

    /** erfc(x) = 2&Phi;(&minus;x&radic;2), for the checks against published values. */
    public static double erfc(double x) {
        return 2 * cdf(-x * Math.sqrt(2));
    }

    /** z &Phi;(z). */
    public static double gelu(double z) {
        return z * cdf(z);
    }

    /** The zero of gelu' is &minus;t0, t0 = 0.751791524693564457457905&hellip; = T0_HI + T0_LO (unevaluated). */
    static final double T0_HI = 0.7517915246935645;
    static final double T0_LO = -1.4956759177009883e-17;

    /**
     * &Phi;(z) + z &phi;(z); for z &le; &minus;3 as &phi;(z) (R(&minus;z) + z), which does not cancel. Within 1e-4
     * of the zero &minus;t0, where &Phi;(z) and &minus;z &phi;(z) cancel (which would leave an absolute error near
     * 1e-17, an ulp of the float result there), from the Taylor series in &delta; = z + t0, computed to
     * 1e-16 relative (z + T0_HI is exact for a float z), with the derivatives of gelu' at &minus;t0:
     * &phi;(2 &minus; z&sup2;), &phi;(z&sup3; &minus; 4z) and &phi;(&minus;z<sup>4</sup> + 7z&sup2; &minus; 4).
     */
    public static double derivative(double z) {
        final double delta = (z + T0_HI) + T0_LO;
        if (Math.abs(delta) < 1e-4) {
            final double z0 = -T0_HI;
            final double p = phi(z0);
            final double f2 = p * (2 - z0 * z0);
            final double f3 = p * (z0 * z0 * z0 - 4 * z0);
            final double f4 = p * (-z0 * z0 * z0 * z0 + 7 * z0 * z0 - 4);
            return delta * (f2 + delta * (f3 / 2 + delta * (f4 / 6)));
        }
        if (z <= -SPLIT) {
            return phi(z) * (mills(-z) + z);
        }
        if (z >= SPLIT) {
            return 1 + phi(z) * (z - mills(z));
        }
        return cdf(z) + z * phi(z);
    }

    /** &phi;(z) (2 &minus; z&sup2;). */
    public static double secondDerivative(double z) {
        return phi(z) * (2 - z * z);
    }
}

package dev.checkprop.nn;


/**
 * Second derivatives of the {@link Activation}s, recovered from the layer's <em>output</em>
 * a = f(z), as {@link Activation#derivativeFromOutput} recovers the first: the R-operator's backward
 * pass then needs only the stored pair (a<sup>l</sup>, R{a<sup>l</sup>}) per layer, no z.
 *
 * <h2>NOTE [Why f''/f' and not f'']</h2>
 * The backward R-pass needs g &odot; f''(z) &odot; R{z}. The forward R-pass stores
 * R{a} = f'(z) &odot; R{z}, not R{z}, so the pass uses f''(z)&middot;R{z} = (f''/f')(a)&middot;R{a}:
 * <ul>
 * <li>tanh: f' = 1 &minus; a&sup2;, f'' = &minus;2a(1 &minus; a&sup2;), so f''/f' = &minus;2a;</li>
 * <li>sigmoid: f' = a(1 &minus; a), f'' = f'&middot;(1 &minus; 2a), so f''/f' = 1 &minus; 2a;</li>
 * <li>identity: f'' = 0;</li>
 * <li>relu: f'' = 0 wherever it exists (z &ne; 0). At z = 0 the second derivative is a Dirac mass
 *     that no finite-precision method sees; like every autodiff framework we use 0, so the Hessian
 *     of a relu network is that of the piecewise-linear pieces (and finite differences across a kink
 *     disagree with it, by design).</li>
 * </ul>
 * The ratio is exact wherever f' vanishes in float (a saturated tanh has a = &plusmn;1 exactly, R{a} = 0
 * and f'' = 0 too), so no division ever happens. It is also better conditioned than recovering z.
 */
public final class ActivationCurvature {

    private ActivationCurvature() {
    }

    /** Answers (f''/f')(a) for a = f(z): &minus;2a for tanh, 1 &minus; 2a for sigmoid, 0 for identity and relu. */
    public static float secondOverFirst(Activation f, float a) {
        return switch (f) {
            case TANH -> -2f * a;
            case SIGMOID -> 1f - 2f * a;
            case IDENTITY, RELU -> 0f;
            case GELU -> throw new IllegalStateException("gelu's curvature needs z: use addCurvatureTerm with z and R{z}");
        };
    }

    /** Answers f''(z) given a = f(z): (f''/f')(a) &middot; f'(a). */
    public static float secondDerivativeFromOutput(Activation f, float a) {
        return secondOverFirst(f, a) * f.derivativeFromOutput(a);
    }

    /**
     * As {@link #addCurvatureTerm(Activation, float[], float[], float[], float[], int, int)}, and for GELU,
     * whose f'' needs z, with {@code a} = z and {@code ra} = R{z}:
     * {@code rDelta[j] = rDelta[j] + ((g[j] * gelu''(z[j])) * rz[j])} by the kernels
     * ({@link dev.checkprop.kernel.DenseKernels#geluSecondTerm}).
     */
    public static void addCurvatureTerm(dev.checkprop.kernel.DenseKernels k, Activation f, float[] a, float[] ra, float[] g,
                                        float[] rDelta, int from, int to) {
        if (f == Activation.GELU) {
            k.geluSecondTerm(a, ra, g, rDelta, from, to);
        } else {
            addCurvatureTerm(f, a, ra, g, rDelta, from, to);
        }
    }

    /** Whether f'' is identically zero (identity) or zero almost everywhere (relu). */
    public static boolean isPiecewiseLinear(Activation f) {
        return f == Activation.IDENTITY || f == Activation.RELU;
    }

    /**
     * Adds the curvature term of the backward R-pass: for {@code from <= j < to},
     * <pre>
     * rDelta[j] = fma(g[j], (f''/f')(a[j]) * ra[j], rDelta[j])
     * </pre>
     * i.e. R{&delta;} += g &odot; f''(z) &odot; R{z}. Nothing is done for identity and relu, whose term is
     * zero (so the bits of {@code rDelta}, signed zeros included, are left as they are). One fixed
     * expression per element, so the result does not depend on how a range is split.
     *
     * @param a      the layer's output f(z). Not modified.
     * @param ra     R{a} = f'(z) R{z}. Not modified.
     * @param g      &part;L/&part;a, the gradient <em>before</em> multiplication by f'. Not modified.
     * @param rDelta R{g} &odot; f' in, R{&delta;} out. Modified.
     */
    public static void addCurvatureTerm(Activation f, float[] a, float[] ra, float[] g, float[] rDelta, int from, int to) {
        switch (f) {
            case GELU -> throw new IllegalStateException("gelu's curvature term needs the kernels: use the overload with them");
            case TANH -> {
                for (int j = from; j < to; j++) {
                    rDelta[j] = Math.fma(g[j], (-2f * a[j]) * ra[j], rDelta[j]);
                }
            }
            case SIGMOID -> {
                for (int j = from; j < to; j++) {
                    rDelta[j] = Math.fma(g[j], (1f - 2f * a[j]) * ra[j], rDelta[j]);
                }
            }
            case IDENTITY, RELU -> {
            }
        }
    }
}

package dev.checkprop.nn;


/**
 * The R-operator of a {@link Loss}'s gradient: given R{a<sup>L</sup>} = J v, writes
 * R{&part;L/&part;a<sup>L</sup>} = H<sub>loss</sub> R{a<sup>L</sup>}, the start of the backward R-pass.
 * <ul>
 * <li>mse: H<sub>loss</sub> = I/N, so R{g} = R{a<sup>L</sup>}/N, in float as {@code r / N} (the same
 *     rounding as the gradient's {@code d / N});</li>
 * <li>mse-mean: H<sub>loss</sub> = 2I/(N n<sub>L</sub>), so R{g} = 2 R{a<sup>L</sup>}/(N n<sub>L</sub>), in double and
 *     rounded once to float (the gradient's rounding);</li>
 * <li>softmax cross-entropy: per sample, R{g} = (diag(p) &minus; p p<sup>T</sup>) R{a<sup>L</sup>} / N
 *     = p &odot; (R{a} &minus; p&middot;R{a}) / N, with p the softmax of the logits computed in double
 *     with {@link StrictMath} exactly as {@link Loss#lossAndGradient} computes it, the dot product
 *     p&middot;R{a} accumulated in double in unit order, one rounding to float per element.</li>
 * </ul>
 * Both are the same for {@link Curvature#HESSIAN} and {@link Curvature#GAUSS_NEWTON}: the loss's own
 * Hessian is kept in both. Single-threaded and fixed-order, so deterministic.
 */
public final class LossCurvature {

    private LossCurvature() {
    }

    /**
     * Writes R{&part;L/&part;a<sup>L</sup>}.
     *
     * @param out    a<sup>L</sup>, unit-major {@code [nL, N]}. Not modified.
     * @param rOut   R{a<sup>L</sup>}, unit-major {@code [nL, N]}. Not modified.
     * @param batch  the batch (its size N and, for mse and mse-mean, nothing else). Not modified.
     * @param rDelta R{g}, unit-major {@code [nL, N]}. Modified.
     */
    public static void rGradient(Loss loss, float[] out, float[] rOut, int nL, Batch batch, float[] rDelta) {
        final int n = batch.size();
        switch (loss) {
            case MSE -> {
                final float fn = n;
                for (int j = 0; j < nL * n; j++) {
                    rDelta[j] = rOut[j] / fn;
                }
            }
            case MSE_MEAN -> {
                final double elements = (double) n * nL;
                for (int j = 0; j < nL * n; j++) {
                    rDelta[j] = (float) (2.0 * rOut[j] / elements);
                }
            }
            case SOFTMAX_CROSS_ENTROPY -> {
                for (int i = 0; i < n; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u < nL; u++) {
                        max = Math.max(max, out[u * n + i]);
                    }
                    double sum = 0;
                    for (int u = 0; u < nL; u++) {
                        sum += StrictMath.exp(out[u * n + i] - max);
                    }
                    final double logSum = max + StrictMath.log(sum);
                    double pr = 0;
                    for (int u = 0; u < nL; u++) {
                        pr += StrictMath.exp(out[u * n + i] - logSum) * rOut[u * n + i];
                    }
                    for (int u = 0; u < nL; u++) {
                        final double p = StrictMath.exp(out[u * n + i] - logSum);
                        rDelta[u * n + i] = (float) (p * (rOut[u * n + i] - pr) / n);
                    }
                }
            }
        }
    }
}

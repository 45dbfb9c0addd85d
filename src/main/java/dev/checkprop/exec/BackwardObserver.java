package dev.checkprop.exec;

/**
 * Sees each layer's activation output at the moment its backward runs, for diagnostics such as
 * dead units. Not for the hot path: set one only when diagnosing.
 */
@FunctionalInterface
public interface BackwardObserver {

    /**
     * @param layer  l, 1-based
     * @param output f(z<sup>l</sup>), unit-major {@code [n_l, batch]}: a<sup>l</sup> for a dense layer, the
     *               recomputed branch f(W a<sup>l-1</sup> + b) for a residual block. Not to be modified or kept.
     * @param batch  N, the stride of {@code output}
     */
    void beforeBackward(int layer, float[] output, int batch);
}

package dev.checkprop.exec;

import java.util.List;

/**
 * An optional witness of an executor's run, for diagnostics and memory accounting: it sees each
 * layer's output as its backward runs and the live states after each action. Not for the hot path:
 * with no listener set the executor builds nothing for it. Both methods do nothing by default.
 */
public interface ExecutionListener {

    /**
     * Called as layer l's backward starts.
     *
     * @param layer  l, 1-based
     * @param output f(z<sup>l</sup>), unit-major {@code [n_l, batch]}: a<sup>l</sup> for a dense layer, the
     *               recomputed branch f(W a<sup>l-1</sup> + b) for a residual block. Not to be modified or kept.
     * @param batch  N, the stride of {@code output}
     */
    default void beforeBackward(int layer, float[] output, int batch) {
    }

    /** Whether {@link #afterAction} wants action {@code action} (so the executor builds its list only then). */
    default boolean wantsAction(int action) {
        return false;
    }

    /**
     * Called right after action {@code action} if {@link #wantsAction} said so.
     *
     * @param live the arrays of the states live at that moment (a<sup>0</sup> is the caller's), and in
     *             curvature mode their R-twins after them
     */
    default void afterAction(int action, List<float[]> live) {
    }

    /** The one callback most diagnostics need, as a lambda: {@code (layer, output, batch) -> ...}. */
    @FunctionalInterface
    interface BackwardHook {
        /** See {@link ExecutionListener#beforeBackward}. */
        void beforeBackward(int layer, float[] output, int batch);
    }

    /** Answers a listener that only calls {@code hook} before each layer's backward. */
    static ExecutionListener onBackward(BackwardHook hook) {
        return new ExecutionListener() {
            @Override
            public void beforeBackward(int layer, float[] output, int batch) {
                hook.beforeBackward(layer, output, batch);
            }
        };
    }
}

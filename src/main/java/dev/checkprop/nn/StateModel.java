package dev.checkprop.nn;

/**
 * How large each layer's state is, in each mode: the one answer to "how many arrays and floats does
 * the executor keep for layer l". A state is one array of (n<sub>l</sub> + {@link Layer#tapeRows()})
 * &middot; N floats (a<sup>l</sup> and its tape, see {@link Layer}); in {@link Mode#CURVATURE} it has a
 * twin of the same size for its R-operator image. Planners budget with these sizes, executors
 * allocate with them, memory predictions and reports count them.
 */
public final class StateModel {

    /** What an executor computes, which decides what a state holds. */
    public enum Mode {
        /** Gradients: a state is a<sup>l</sup> and its tape. */
        GRADIENT(1),
        /** Curvature-vector products: a state is that and its R-image, two arrays. */
        CURVATURE(2);

        private final int arrays;

        Mode(int arrays) {
            this.arrays = arrays;
        }

        /** Answers the arrays per state: 1, or 2 with the R-image. */
        public int arrays() {
            return arrays;
        }
    }

    private StateModel() {
    }

    /** Answers the floats of one array of layer l's state for a batch of {@code batch}. */
    public static long floats(Layer layer, int batch) {
        return ((long) layer.outputWidth() + layer.tapeRows()) * batch;
    }

    /**
     * Answers the floats of one array of each layer's state, index l (index 0, the input, is 0): the
     * sizes {@link dev.checkprop.plan.Simulation} walks a plan with.
     */
    public static long[] floats(Network net, int batch) {
        final long[] f = new long[net.depth() + 1];
        for (int l = 1; l <= net.depth(); l++) {
            f[l] = floats(net.layer(l), batch);
        }
        return f;
    }

    /**
     * Answers the bytes of one tier copy of a state whose arrays hold {@code floats} floats each: the
     * payload of all its arrays, 4 bytes a float, no header (a copy outside the heap is raw floats).
     */
    public static long copyBytes(long floats, Mode mode) {
        return 4L * floats * mode.arrays();
    }

    /** Answers the rows of the widest state (its n<sub>l</sub> plus tape), the width of buffers every layer's state fits. */
    public static int widestStateRows(Network net) {
        int rows = 0;
        for (Layer d : net.layers()) {
            rows = Math.max(rows, d.outputWidth() + d.tapeRows());
        }
        return rows;
    }
}

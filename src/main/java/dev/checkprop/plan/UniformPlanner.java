package dev.checkprop.plan;

/**
 * Checkpoints every K layers (a<sup>K</sup>, a<sup>2K</sup>, ...), the scheme of Chen et al.,
 * "Training Deep Nets with Sublinear Memory Cost" (arXiv:1604.06174). The first sweep keeps the
 * checkpoints and every activation of the last segment; each other segment is recomputed once from
 * its checkpoint during the backward pass. Forward evaluations: exactly
 * {@code L + (ceil(L/K) - 1)(K - 1)}. The last segment holds the remainder {@code L - K(ceil(L/K)-1)}.
 */
public final class UniformPlanner implements Planner {

    private final int k;
    private final String name;

    /**
     * @param k segment length, at least 1
     */
    public UniformPlanner(int k) {
        this(k, "uniform:" + k);
    }

    UniformPlanner(int k, String name) {
        if (k < 1) {
            throw new IllegalArgumentException("uniform:K needs K >= 1, got " + k);
        }
        this.k = k;
        this.name = name;
    }

    /** Answers K, the segment length. */
    public int segmentLength() {
        return k;
    }

    @Override
    public Plan plan(int layers) {
        Plan.Builder b = Plan.builder(name, layers);
        // Not (layers + k - 1) / k: that overflows for K near Integer.MAX_VALUE.
        final int segments = (layers - 1) / k + 1;
        // Every layer once, and again for each one not kept: refused before the first action.
        Plan.checkSize(name, layers, 2L * layers - segments, "use a larger -Xmx (or fewer layers)");
        final int lastStart = (segments - 1) * k;
        for (int l = 1; l <= layers; l++) {
            b.forward(l);
            final int prev = l - 1;
            if (prev > 0 && prev < lastStart && prev % k != 0) {
                b.drop(prev);
            }
        }
        b.loss();
        FullStoragePlanner.backwardKept(b, layers, lastStart);
        for (int start = lastStart - k; start >= 0; start -= k) {
            for (int l = start + 1; l < start + k; l++) {
                b.forward(l);
            }
            FullStoragePlanner.backwardKept(b, start + k, start);
        }
        return b.build();
    }

    @Override
    public String toString() {
        return name;
    }
}

package dev.checkprop.plan;

/**
 * What a plan does, counted from its actions alone by {@link PlanChecker}.
 *
 * @param forwardEvaluations layer forward evaluations in all (L for full storage)
 * @param peakLiveBuffers    the most activation buffers live at once (a<sup>0</sup> not counted)
 * @param peakAction         index of the first action at which that peak is reached
 * @param evaluationsPerLayer forward evaluations of each layer, index l for layer l (index 0 unused)
 * @param tierWrites         writes ({@code W l@tier}) to each tier, index {@link Tier#ordinal()}
 * @param tierReads          reads ({@code R l}) from each tier, index {@link Tier#ordinal()}
 * @param peakTierCopies     the most tier copies held at once in each tier, index {@link Tier#ordinal()}
 */
public record PlanStats(long forwardEvaluations, int peakLiveBuffers, int peakAction, int[] evaluationsPerLayer,
                        long[] tierWrites, long[] tierReads, int[] peakTierCopies) {

    /** The counts of a plan without tier actions. */
    public PlanStats(long forwardEvaluations, int peakLiveBuffers, int peakAction, int[] evaluationsPerLayer) {
        this(forwardEvaluations, peakLiveBuffers, peakAction, evaluationsPerLayer, new long[Tier.values().length],
                new long[Tier.values().length], new int[Tier.values().length]);
    }

    /** Answers the writes to {@code tier}. */
    public long writes(Tier tier) {
        return tierWrites[tier.ordinal()];
    }

    /** Answers the reads from {@code tier} (a read names its layer; the tier is the one its copy was written to). */
    public long reads(Tier tier) {
        return tierReads[tier.ordinal()];
    }

    /** Answers the most copies held in {@code tier} at once. */
    public int peakCopies(Tier tier) {
        return peakTierCopies[tier.ordinal()];
    }

    /** Whether the plan writes to any tier (every read and discard needs a write before it). */
    public boolean usesTiers() {
        for (long w : tierWrites) {
            if (w > 0) {
                return true;
            }
        }
        return false;
    }

    /** Answers the evaluations beyond one per layer: what the plan pays for its memory savings. */
    public long recomputations() {
        return forwardEvaluations - (evaluationsPerLayer.length - 1);
    }

    /** One line, with the per-layer evaluations summarised by {@link #histogram} rather than printed as an array. */
    @Override
    public String toString() {
        final StringBuilder tiers = new StringBuilder();
        for (Tier t : Tier.values()) {
            if (writes(t) > 0) {
                tiers.append(", ").append(t.text()).append(' ').append(writes(t)).append(" writes, ").append(reads(t))
                        .append(" reads, peak ").append(peakCopies(t)).append(" copies");
            }
        }
        return "PlanStats[forward evaluations " + forwardEvaluations + " (" + histogram(evaluationsPerLayer) + "), peak "
                + peakLiveBuffers + " live buffers at action " + peakAction + tiers + "]";
    }

    /**
     * Answers how many layers were evaluated how many times, e.g. {@code "L=1000: 1x 500 layers, 2x 500 layers"}
     * for an array indexed by layer (index 0 unused); counts in increasing order.
     */
    public static String histogram(int[] evaluationsPerLayer) {
        if (evaluationsPerLayer == null || evaluationsPerLayer.length <= 1) {
            return "L=0";
        }
        final java.util.TreeMap<Integer, Integer> layersByCount = new java.util.TreeMap<>();
        for (int l = 1; l < evaluationsPerLayer.length; l++) {
            layersByCount.merge(evaluationsPerLayer[l], 1, Integer::sum);
        }
        final StringBuilder sb = new StringBuilder("L=").append(evaluationsPerLayer.length - 1).append(':');
        String sep = " ";
        for (java.util.Map.Entry<Integer, Integer> e : layersByCount.entrySet()) {
            sb.append(sep).append(e.getKey()).append("x ").append(e.getValue()).append(e.getValue() == 1 ? " layer" : " layers");
            sep = ", ";
        }
        return sb.toString();
    }
}

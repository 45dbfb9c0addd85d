package dev.checkprop.plan;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The machine a plan's step time is predicted for: how fast the executor evaluates layers and what
 * each {@link Tier} offers. Immutable. {@link #times(Chain, long[])} turns it into whole nanoseconds
 * per layer for one chain ({@link StepTimes}), the integers in which {@link StepTimes#predict} and
 * {@link TieredPlanner} compute exactly.
 *
 * <p>Forward evaluation of layer l takes cost(l) &middot; {@code secondsPerCostUnit} seconds (the
 * chain's cost unit, e.g. scaled flops, times the executor's measured speed); its backward step
 * {@code backwardRatio} times as long. Tiers not in the map are not used.
 *
 * @param secondsPerCostUnit seconds per unit of {@link Chain#cost(int)}, positive and finite
 * @param backwardRatio      backward time of a layer over its forward time, at least 0 and finite
 * @param tiers              what each usable tier offers (copied)
 */
public record StepTimeModel(double secondsPerCostUnit, double backwardRatio, Map<Tier, TierCosts> tiers) {

    /**
     * @throws IllegalArgumentException naming the value that is out of range
     */
    public StepTimeModel {
        if (!(secondsPerCostUnit > 0) || Double.isInfinite(secondsPerCostUnit)) {
            throw new IllegalArgumentException("seconds per cost unit must be positive and finite, got " + secondsPerCostUnit);
        }
        if (!(backwardRatio >= 0) || Double.isInfinite(backwardRatio)) {
            throw new IllegalArgumentException("backward ratio must be at least 0 and finite, got " + backwardRatio);
        }
        final EnumMap<Tier, TierCosts> copy = new EnumMap<>(Tier.class);
        for (Map.Entry<Tier, TierCosts> e : tiers.entrySet()) {
            copy.put(Objects.requireNonNull(e.getKey(), "tier"), Objects.requireNonNull(e.getValue(), "tier costs"));
        }
        tiers = Collections.unmodifiableMap(copy);
    }

    /** A model with no tiers: heap-only plans. */
    public static StepTimeModel heapOnly(double secondsPerCostUnit, double backwardRatio) {
        return new StepTimeModel(secondsPerCostUnit, backwardRatio, Map.of());
    }

    /** Answers this model with {@code tier} offering {@code costs} (replacing what it had). */
    public StepTimeModel with(Tier tier, TierCosts costs) {
        final EnumMap<Tier, TierCosts> m = new EnumMap<>(Tier.class);
        m.putAll(tiers);
        m.put(tier, costs);
        return new StepTimeModel(secondsPerCostUnit, backwardRatio, m);
    }

    /** Answers this model with only the given tiers, at the given capacities (tiers the model lacks are refused). */
    public StepTimeModel restrictedTo(Map<Tier, Long> capacities) {
        final EnumMap<Tier, TierCosts> m = new EnumMap<>(Tier.class);
        for (Map.Entry<Tier, Long> e : capacities.entrySet()) {
            final TierCosts c = tiers.get(e.getKey());
            if (c == null) {
                throw new IllegalArgumentException("no speeds for tier " + e.getKey().text() + " in the model (it has "
                        + (tiers.isEmpty() ? "no tiers" : tiers.keySet()) + ")");
            }
            m.put(e.getKey(), c.withCapacity(e.getValue()));
        }
        return new StepTimeModel(secondsPerCostUnit, backwardRatio, m);
    }

    /**
     * Answers the whole-nanosecond times of this model on {@code chain}, the tier copy of a<sup>l</sup>
     * taking {@code transferBytes[l - 1]} bytes (0-based, as {@link Chain#of}).
     *
     * @throws IllegalArgumentException if the lengths differ or a size is not positive
     */
    public StepTimes times(Chain chain, long[] transferBytes) {
        return new StepTimes(chain, transferBytes, this);
    }

    /** Answers {@link #times(Chain, long[])} with the tier copy of a<sup>l</sup> as large as its heap buffer. */
    public StepTimes times(Chain chain) {
        final long[] b = new long[chain.layers()];
        for (int l = 1; l <= b.length; l++) {
            b[l - 1] = chain.bytes(l);
        }
        return times(chain, b);
    }

    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "%.4g ns per cost unit, backward %.2f x forward", secondsPerCostUnit * 1e9, backwardRatio));
        for (Map.Entry<Tier, TierCosts> e : tiers.entrySet()) {
            sb.append("; ").append(e.getKey().text()).append(": ").append(e.getValue());
        }
        return sb.toString();
    }
}

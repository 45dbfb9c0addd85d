package dev.checkprop.train;

import java.util.Locale;

/**
 * A learning-rate schedule: the rate to use at each step index (0, 1, 2, ...). Must be a pure
 * function of the step, so that a run can be resumed or replayed.
 *
 * <h2>Strings</h2>
 * {@link #parse} reads the forms below; the base rate lr and the run's total number of steps are
 * given separately (as on a command line, {@code --lr 0.001 --steps 5000 --schedule cosine:100}):
 * <ul>
 * <li>{@code constant}: lr at every step;</li>
 * <li>{@code step:K:GAMMA}: lr&middot;GAMMA<sup>&lfloor;s/K&rfloor;</sup>, i.e. multiplied by GAMMA
 *     every K steps (K a positive integer, GAMMA &gt; 0);</li>
 * <li>{@code cosine}, {@code cosine:WARMUP}, {@code cosine:WARMUP:LR_MIN}: linear warmup over
 *     WARMUP steps (default 0), then cosine decay from lr to LR_MIN (default 0) at the last step;
 *     see {@link #cosine}.</li>
 * </ul>
 * Names are case-insensitive; errors name the string and list these forms.
 */
@FunctionalInterface
public interface LearningRate {

    /** The forms {@link #parse} accepts, for help and error messages. */
    String SYNTAX = "constant | step:K:GAMMA | cosine[:WARMUP[:LR_MIN]]";

    /**
     * Answers the learning rate at step index {@code step}.
     *
     * @throws IllegalArgumentException if {@code step < 0}
     */
    double at(int step);

    /**
     * The same rate at every step.
     *
     * @throws IllegalArgumentException unless lr is finite and &ge; 0
     */
    static LearningRate constant(double lr) {
        return new Schedules.Constant(lr);
    }

    /**
     * lr&middot;gamma<sup>&lfloor;step/every&rfloor;</sup>: the rate is multiplied by gamma after
     * every {@code every} steps.
     *
     * @throws IllegalArgumentException unless lr is finite and &ge; 0, every &ge; 1 and gamma is finite and &gt; 0
     */
    static LearningRate step(double lr, int every, double gamma) {
        return new Schedules.Step(lr, every, gamma);
    }

    /** As {@link #cosine(double, double, int, int)} with no warmup. */
    static LearningRate cosine(double lr, double lrMin, int totalSteps) {
        return cosine(lr, lrMin, totalSteps, 0);
    }

    /**
     * Linear warmup, then cosine decay. For s &lt; W (warmup steps): lr&middot;(s+1)/W, reaching lr
     * at s = W&minus;1 (it starts at lr/W rather than 0 so that no step is wasted). For
     * W &le; s &lt; T (total steps): lrMin + (lr &minus; lrMin)&middot;(1 + cos(&pi;p))/2 with
     * p = (s &minus; W)/(T &minus; W), which is lr at s = W and approaches lrMin; from s = T on,
     * lrMin.
     *
     * @throws IllegalArgumentException unless 0 &le; lrMin &le; lr (both finite), T &ge; 1 and 0 &le; W &lt; T
     */
    static LearningRate cosine(double lr, double lrMin, int totalSteps, int warmupSteps) {
        return new Schedules.Cosine(lr, lrMin, totalSteps, warmupSteps);
    }

    /**
     * Parses a schedule string (see the class comment).
     *
     * @param lr         the base rate
     * @param totalSteps the run's length, which {@code cosine} decays over
     * @throws IllegalArgumentException naming the string, what is wrong and the accepted forms
     */
    static LearningRate parse(String spec, double lr, int totalSteps) {
        final String[] parts = spec.trim().toLowerCase(Locale.ROOT).split(":", -1);
        try {
            switch (parts[0]) {
                case "constant":
                    Schedules.arity(parts, 0, 0);
                    return constant(lr);
                case "step":
                    Schedules.arity(parts, 2, 2);
                    return step(lr, Schedules.parseInt(parts[1], "K"), Schedules.parseDouble(parts[2], "GAMMA"));
                case "cosine":
                    Schedules.arity(parts, 0, 2);
                    final int warmup = parts.length > 1 ? Schedules.parseInt(parts[1], "WARMUP") : 0;
                    final double lrMin = parts.length > 2 ? Schedules.parseDouble(parts[2], "LR_MIN") : 0;
                    return cosine(lr, lrMin, totalSteps, warmup);
                default:
                    throw new IllegalArgumentException("unknown schedule");
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("learning-rate schedule '" + spec + "': " + e.getMessage()
                    + " (expected " + SYNTAX + ")", e);
        }
    }
}

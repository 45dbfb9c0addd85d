package dev.checkprop.train;

/**
 * The {@link LearningRate} implementations; records so that they compare and print by value.
 * {@link StrictMath} and plain IEEE arithmetic make the rates the same on every JVM.
 */
final class Schedules {

    private Schedules() {
    }

    /**
     * base<sup>exp</sup> for exp &ge; 0 by repeated squaring: IEEE multiplications only, so it is the
     * same on every JVM, and unlike {@link StrictMath#pow} (which allocates on JDK 17) it allocates
     * nothing, so an optimizer step stays allocation-free. Its relative error grows like
     * exp&middot;2<sup>-53</sup>, far below float resolution wherever the power is not already
     * negligible (0.999<sup>t</sup> is below 10<sup>-40</sup> long before t reaches 2<sup>20</sup>).
     */
    static double powInt(double base, long exp) {
        double result = 1;
        double b = base;
        for (long e = exp; e > 0; e >>>= 1) {
            if ((e & 1) != 0) {
                result *= b;
            }
            b *= b;
        }
        return result;
    }

    static void checkStep(int step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
    }

    static void checkRate(String name, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(name + " must be finite and >= 0, got " + v);
        }
    }

    /** Checks the number of ':'-separated parameters after the name. */
    static void arity(String[] parts, int min, int max) {
        final int n = parts.length - 1;
        if (n < min || n > max) {
            throw new IllegalArgumentException(min == max
                    ? "takes " + (min == 0 ? "no parameters" : min + " parameters") + ", got " + n
                    : "takes " + min + " to " + max + " parameters, got " + n);
        }
    }

    static int parseInt(String s, String what) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be an integer, got '" + s + "'");
        }
    }

    static double parseDouble(String s, String what) {
        try {
            final double v = Double.parseDouble(s);
            if (Double.isFinite(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below, as for a non-finite value
        }
        throw new IllegalArgumentException(what + " must be a finite number, got '" + s + "'");
    }

    record Constant(double lr) implements LearningRate {
        Constant {
            checkRate("learning rate", lr);
        }

        @Override
        public double at(int step) {
            checkStep(step);
            return lr;
        }

        @Override
        public String toString() {
            return "constant(" + lr + ")";
        }
    }

    record Step(double lr, int every, double gamma) implements LearningRate {
        Step {
            checkRate("learning rate", lr);
            if (every < 1) {
                throw new IllegalArgumentException("K (steps between decays) must be >= 1, got " + every);
            }
            if (!(gamma > 0) || Double.isInfinite(gamma)) {
                throw new IllegalArgumentException("GAMMA must be finite and > 0, got " + gamma);
            }
        }

        @Override
        public double at(int step) {
            checkStep(step);
            return lr * powInt(gamma, step / every);
        }

        @Override
        public String toString() {
            return "step(" + lr + ", every " + every + ", x" + gamma + ")";
        }
    }

    record Cosine(double lr, double lrMin, int totalSteps, int warmupSteps) implements LearningRate {
        Cosine {
            checkRate("learning rate", lr);
            checkRate("LR_MIN", lrMin);
            if (lrMin > lr) {
                throw new IllegalArgumentException("LR_MIN " + lrMin + " is above the learning rate " + lr);
            }
            if (totalSteps < 1) {
                throw new IllegalArgumentException("total steps must be >= 1, got " + totalSteps);
            }
            if (warmupSteps < 0 || warmupSteps >= totalSteps) {
                throw new IllegalArgumentException("WARMUP must be in 0.." + (totalSteps - 1) + " (below the " + totalSteps
                        + " total steps), got " + warmupSteps);
            }
        }

        @Override
        public double at(int step) {
            checkStep(step);
            if (step < warmupSteps) {
                return lr * (step + 1) / warmupSteps;
            }
            if (step >= totalSteps) {
                return lrMin;
            }
            final double p = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
            return lrMin + (lr - lrMin) * 0.5 * (1 + StrictMath.cos(Math.PI * p));
        }

        @Override
        public String toString() {
            return "cosine(" + lr + " to " + lrMin + " over " + totalSteps + " steps, warmup " + warmupSteps + ")";
        }
    }
}

package dev.checkprop.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The memory/time trade-off read from step benchmarks (Bench02_Step): per network (depth, width,
 * batch, threads) one row per plan, with the time relative to full storage, the ratio the forward
 * evaluation count predicts, and the Pareto front.
 *
 * <p><b>The model.</b> A step of a plan costs its forward evaluations E plus one backward pass; the
 * backward of a dense layer is two products of the forward's size (gradient for the input and for
 * the weights), so it costs about {@code c = 2} forward evaluations, and the whole backward c&middot;L.
 * Full storage does L + c&middot;L. The predicted time relative to full storage is therefore
 * <pre>  predicted = (E + c L) / (L + c L)</pre>
 * and the gap is {@code measured / predicted - 1}, in percent: positive when the plan is slower than
 * its arithmetic says (e.g. more cache misses, executor overhead per action), negative when faster
 * (e.g. a smaller working set that stays in cache).
 */
public final class Tradeoff {

    /** The backward cost per layer, in forward evaluations, that the report uses unless told otherwise. */
    public static final double DEFAULT_BACKWARD_COST = 2.0;

    private Tradeoff() {
    }

    /**
     * One plan's measurement.
     *
     * @param plan               the plan parameter as given to JMH (possibly relative, e.g. {@code optimal:2sqrtL})
     * @param resolved           the plan string it resolved to for this network (e.g. {@code optimal:64})
     * @param peakBytes          peak activation bytes (aux counter)
     * @param forwardEvaluations forward evaluations per step (aux counter)
     * @param timeMs             time per step, ms
     * @param errorMs            JMH's 99.9% error on it, ms (NaN for a single measurement)
     * @param forwardMs          time per step in forward actions, ms (aux counter; NaN when not published)
     * @param backwardMs         time per step in backward actions, ms (aux counter; NaN when not published)
     * @param forkMs             time per step of each fork (JVM) separately, ms (empty without raw data)
     */
    public record Point(String plan, String resolved, long peakBytes, long forwardEvaluations, double timeMs,
                        double errorMs, double forwardMs, double backwardMs, double[] forkMs) {

        /** A point without the phase split and the forks. */
        public Point(String plan, String resolved, long peakBytes, long forwardEvaluations, double timeMs,
                     double errorMs) {
            this(plan, resolved, peakBytes, forwardEvaluations, timeMs, errorMs, Double.NaN, Double.NaN,
                    new double[0]);
        }

        /** Microseconds per forward evaluation (NaN without the phase split). */
        public double microsPerForward() {
            return forwardMs * 1000 / forwardEvaluations;
        }
    }

    /**
     * A row of a depth's table.
     *
     * @param relative      time / time of full storage (NaN without a full-storage row)
     * @param relativeError its error, from both times' relative errors in quadrature (NaN when unknown)
     * @param predicted     (E + cL) / (L + cL)
     * @param gapPercent    (relative / predicted - 1) * 100
     * @param pareto        no other plan of the group has both less (or equal) memory and less (or equal)
     *                      time, one of them strictly
     */
    public record Row(Point point, double relative, double relativeError, double predicted, double gapPercent,
                      boolean pareto) {
    }

    /**
     * The rows of one network.
     *
     * @param layers depth L
     * @param others the other parameters (width, batch, threads, ...), by name, in JMH's order
     * @param rows   by peak memory, largest first
     */
    public record Group(int layers, Map<String, String> others, List<Row> rows) {

        /** E.g. {@code L = 256 (width 128, batch 256, threads all)}. */
        public String title() {
            StringBuilder b = new StringBuilder("L = ").append(layers);
            if (!others.isEmpty()) {
                b.append(" (");
                String sep = "";
                for (Map.Entry<String, String> e : others.entrySet()) {
                    b.append(sep).append(e.getKey()).append(' ').append(e.getValue());
                    sep = ", ";
                }
                b.append(')');
            }
            return b.toString();
        }

        /** The Pareto-optimal rows, by peak memory, smallest first. */
        public List<Row> front() {
            List<Row> f = new ArrayList<>();
            for (Row r : rows) {
                if (r.pareto()) {
                    f.add(r);
                }
            }
            f.sort(Comparator.comparingLong((Row r) -> r.point().peakBytes())
                    .thenComparingDouble(r -> r.point().timeMs()));
            return f;
        }
    }

    /** Names of the aux counters the step benchmark publishes. */
    public static final String FORWARD_EVALUATIONS = "forwardEvaluations";
    public static final String PEAK_ACTIVATION_BYTES = "peakActivationBytes";
    public static final String FORWARD_MS = "forwardMs";
    public static final String BACKWARD_MS = "backwardMs";

    /** True if {@code r} is a step measurement: parameters plan and layers, and both counters. */
    public static boolean isStep(JmhResult r) {
        return r.param("plan") != null && r.param("layers") != null
                && r.secondary().containsKey(FORWARD_EVALUATIONS) && r.secondary().containsKey(PEAK_ACTIVATION_BYTES);
    }

    /** Predicted time relative to full storage: (E + cL) / (L + cL). */
    public static double predictedRatio(long forwardEvaluations, int layers, double backwardCost) {
        return (forwardEvaluations + backwardCost * layers) / (layers + backwardCost * layers);
    }

    /**
     * Groups the step measurements of {@code results} by network and computes every row. Other
     * benchmarks are ignored.
     */
    public static List<Group> groups(List<JmhResult> results, double backwardCost) {
        Map<String, List<JmhResult>> byKey = new LinkedHashMap<>();
        Map<String, Map<String, String>> othersOf = new LinkedHashMap<>();
        for (JmhResult r : results) {
            if (!isStep(r)) {
                continue;
            }
            Map<String, String> others = new LinkedHashMap<>();
            for (String name : List.of("layers", "width", "batch", "threads")) {
                if (r.params().containsKey(name)) {
                    others.put(name, r.param(name));
                }
            }
            others.putAll(r.params());
            others.remove("plan");
            String key = others.toString();
            byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
            others.remove("layers");
            othersOf.put(key, others);
        }
        List<Group> out = new ArrayList<>();
        for (Map.Entry<String, List<JmhResult>> e : byKey.entrySet()) {
            out.add(group(e.getValue(), othersOf.get(e.getKey()), backwardCost));
        }
        out.sort(Comparator.comparingInt(Group::layers).thenComparing(g -> g.others().toString()));
        return out;
    }

    private static Group group(List<JmhResult> results, Map<String, String> others, double backwardCost) {
        int layers = results.get(0).intParam("layers");
        int width = intOr(results.get(0), "width", 0);
        int batch = intOr(results.get(0), "batch", 0);
        List<Point> points = new ArrayList<>();
        for (JmhResult r : results) {
            String plan = r.param("plan");
            String resolved;
            try {
                resolved = PlanSpec.resolve(plan, layers, width, batch);
            } catch (RuntimeException ex) {
                resolved = plan;
            }
            double[] t = millisPerOp(r.primary());
            double[] forks = r.primary().forkMeans();
            for (int f = 0; f < forks.length; f++) {
                forks[f] = millisPerOp(new JmhResult.Metric(forks[f], Double.NaN, r.primary().unit()))[0];
            }
            points.add(new Point(plan, resolved,
                    Math.round(r.secondary().get(PEAK_ACTIVATION_BYTES).score()),
                    Math.round(r.secondary().get(FORWARD_EVALUATIONS).score()), t[0], t[1],
                    secondaryOr(r, FORWARD_MS), secondaryOr(r, BACKWARD_MS), forks));
        }
        Point full = null;
        for (Point p : points) {
            if (p.resolved().trim().equalsIgnoreCase("full")) {
                full = p;
            }
        }
        double[] x = new double[points.size()];
        double[] y = new double[points.size()];
        for (int i = 0; i < points.size(); i++) {
            x[i] = points.get(i).peakBytes();
            y[i] = points.get(i).timeMs();
        }
        boolean[] pareto = pareto(x, y);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) {
            Point p = points.get(i);
            double rel = Double.NaN;
            double relErr = Double.NaN;
            if (full != null) {
                rel = p.timeMs() / full.timeMs();
                relErr = rel * Math.hypot(p.errorMs() / p.timeMs(), full.errorMs() / full.timeMs());
                if (p == full) {
                    relErr = Double.NaN; // exactly 1 by definition
                }
            }
            double pred = predictedRatio(p.forwardEvaluations(), layers, backwardCost);
            rows.add(new Row(p, rel, relErr, pred, (rel / pred - 1) * 100, pareto[i]));
        }
        rows.sort(Comparator.comparingLong((Row r) -> -r.point().peakBytes())
                .thenComparingDouble(r -> r.point().timeMs()));
        return new Group(layers, others, List.copyOf(rows));
    }

    private static double secondaryOr(JmhResult r, String name) {
        JmhResult.Metric m = r.secondary().get(name);
        return m == null ? Double.NaN : m.score();
    }

    private static int intOr(JmhResult r, String name, int otherwise) {
        String v = r.param(name);
        if (v == null) {
            return otherwise;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    /**
     * The Pareto-optimal points when both coordinates are to be minimised: point i is optimal unless
     * some j has {@code x[j] <= x[i]} and {@code y[j] <= y[i]}, one of them strictly. Equal points
     * are both optimal; a NaN coordinate makes a point neither dominate nor be optimal.
     */
    public static boolean[] pareto(double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("x and y differ in length");
        }
        boolean[] out = new boolean[x.length];
        for (int i = 0; i < x.length; i++) {
            if (Double.isNaN(x[i]) || Double.isNaN(y[i])) {
                continue;
            }
            boolean dominated = false;
            for (int j = 0; j < x.length && !dominated; j++) {
                if (j != i && !Double.isNaN(x[j]) && !Double.isNaN(y[j])) {
                    dominated = x[j] <= x[i] && y[j] <= y[i] && (x[j] < x[i] || y[j] < y[i]);
                }
            }
            out[i] = !dominated;
        }
        return out;
    }

    private static final Map<String, Double> MILLIS = new TreeMap<>(Map.of(
            "ns", 1e-6, "us", 1e-3, "µs", 1e-3, "ms", 1.0, "s", 1e3, "min", 6e4, "hr", 3.6e6));

    /**
     * A time-per-operation or operations-per-time metric as {milliseconds per operation, error}.
     *
     * @throws IllegalArgumentException for a unit that is neither
     */
    public static double[] millisPerOp(JmhResult.Metric m) {
        String u = m.unit().trim().toLowerCase(Locale.ROOT);
        int slash = u.indexOf('/');
        if (slash > 0) {
            String num = u.substring(0, slash);
            String den = u.substring(slash + 1);
            if (den.equals("op") && MILLIS.containsKey(num)) {
                double f = MILLIS.get(num);
                return new double[] {m.score() * f, m.error() * f};
            }
            if (num.equals("ops") && MILLIS.containsKey(den)) {
                double f = MILLIS.get(den);
                double t = f / m.score();
                return new double[] {t, t * m.error() / m.score()};
            }
        }
        throw new IllegalArgumentException("cannot read a time per step from the unit '" + m.unit() + "'");
    }
}

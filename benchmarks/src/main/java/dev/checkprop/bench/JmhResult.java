package dev.checkprop.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.openjdk.jmh.util.ListStatistics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One entry of a JMH JSON result file ({@code -rf json -rff FILE}): a benchmark method at one
 * parameter point, with the run's JVM facts. Only what the report uses is kept.
 *
 * @param benchmark   the fully qualified method, e.g. {@code dev.checkprop.bench.Bench02_Step.step}
 * @param mode        JMH's mode abbreviation: {@code avgt}, {@code thrpt}, {@code ss}, {@code sample}
 * @param params      the {@code @Param} values, by name (empty when the benchmark has none)
 * @param primary     the primary metric
 * @param secondary   the secondary metrics (aux counters, profilers), by name
 * @param jvm         the forked JVM's executable
 * @param jvmArgs     its arguments
 * @param jdkVersion  e.g. {@code 17.0.15}
 * @param vmName      e.g. {@code OpenJDK 64-Bit Server VM}
 * @param vmVersion   e.g. {@code 17.0.15+6-Debian-1deb12u1}
 * @param jmhVersion  e.g. {@code 1.37}
 * @param forks       forks run
 * @param warmup      warm-up iterations and time, e.g. {@code 3 x 2 s}
 * @param measurement measurement iterations and time, e.g. {@code 5 x 3 s}
 */
public record JmhResult(String benchmark, String mode, Map<String, String> params, Metric primary,
                        Map<String, Metric> secondary, String jvm, List<String> jvmArgs, String jdkVersion,
                        String vmName, String vmVersion, String jmhVersion, int forks, String warmup,
                        String measurement) {

    /**
     * A score with JMH's error (the half-width of its 99.9% confidence interval; NaN when there was a
     * single measurement), unit, and the raw measurements: one array per fork, one value per
     * measurement iteration (empty when the file has none).
     */
    public record Metric(double score, double error, String unit, List<double[]> forks) {

        /** A metric without raw data. */
        public Metric(double score, double error, String unit) {
            this(score, error, unit, List.of());
        }

        /** The mean of each fork's measurements, in fork order. */
        public double[] forkMeans() {
            double[] means = new double[forks.size()];
            for (int f = 0; f < means.length; f++) {
                double sum = 0;
                for (double v : forks.get(f)) {
                    sum += v;
                }
                means[f] = forks.get(f).length == 0 ? Double.NaN : sum / forks.get(f).length;
            }
            return means;
        }
    }

    /** The class's simple name and the method, e.g. {@code Bench02_Step.step}. */
    public String shortName() {
        String[] parts = benchmark.split("\\.");
        return parts.length < 2 ? benchmark : parts[parts.length - 2] + "." + parts[parts.length - 1];
    }

    /** A parameter's value, or {@code null}. */
    public String param(String name) {
        return params.get(name);
    }

    /** A parameter's value as an int. */
    public int intParam(String name) {
        String v = params.get(name);
        if (v == null) {
            throw new IllegalArgumentException(shortName() + " has no parameter '" + name + "'");
        }
        return Integer.parseInt(v.trim());
    }

    /** Reads a JMH JSON result file. */
    public static List<JmhResult> read(Path file) throws IOException {
        return parse(Files.readString(file));
    }

    /**
     * Parses the text of a JMH JSON result file: an array of benchmark entries.
     *
     * @throws IllegalArgumentException if the text is not such an array
     */
    public static List<JmhResult> parse(String json) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json);
        if (root == null || !root.isArray()) {
            throw new IllegalArgumentException("not a JMH JSON result (expected an array of benchmark entries)");
        }
        List<JmhResult> out = new ArrayList<>();
        for (JsonNode e : root) {
            if (!e.hasNonNull("benchmark") || !e.hasNonNull("primaryMetric")) {
                throw new IllegalArgumentException("not a JMH JSON result: an entry has no benchmark or primaryMetric");
            }
            Map<String, String> params = new LinkedHashMap<>();
            JsonNode p = e.path("params");
            for (Map.Entry<String, JsonNode> f : p.properties()) {
                params.put(f.getKey(), f.getValue().asText());
            }
            Map<String, Metric> secondary = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> f : e.path("secondaryMetrics").properties()) {
                secondary.put(f.getKey(), metric(f.getValue()));
            }
            List<String> jvmArgs = new ArrayList<>();
            for (JsonNode a : e.path("jvmArgs")) {
                jvmArgs.add(a.asText());
            }
            out.add(new JmhResult(e.get("benchmark").asText(), e.path("mode").asText(""),
                    Collections.unmodifiableMap(params), metric(e.get("primaryMetric")),
                    Collections.unmodifiableMap(secondary), e.path("jvm").asText(""), List.copyOf(jvmArgs),
                    e.path("jdkVersion").asText(""), e.path("vmName").asText(""), e.path("vmVersion").asText(""),
                    e.path("jmhVersion").asText(""), e.path("forks").asInt(0),
                    iterations(e, "warmupIterations", "warmupTime"),
                    iterations(e, "measurementIterations", "measurementTime")));
        }
        return out;
    }

    /**
     * Merges the results of several runs of the same benchmarks (e.g. sweeps made at different
     * times, so that a slow period of a shared machine does not decide a whole configuration):
     * entries with the same benchmark, mode and parameters become one, in order of first
     * appearance. The primary metric's forks are concatenated and its score and error recomputed
     * from all measurements as JMH does (mean, and the half-width of the 99.9% Student-t interval);
     * a secondary metric's score is the mean of the runs' scores weighted by their forks (the step
     * benchmark publishes per-step values there, so their raw shares are dropped); {@link #forks()} is
     * the sum.
     *
     * @throws IllegalArgumentException if entries to merge have different units
     */
    public static List<JmhResult> merge(List<List<JmhResult>> runs) {
        Map<String, List<JmhResult>> byKey = new LinkedHashMap<>();
        for (List<JmhResult> run : runs) {
            for (JmhResult r : run) {
                byKey.computeIfAbsent(r.benchmark() + " " + r.mode() + " " + r.params(), k -> new ArrayList<>()).add(r);
            }
        }
        List<JmhResult> out = new ArrayList<>();
        for (List<JmhResult> same : byKey.values()) {
            if (same.size() == 1) {
                out.add(same.get(0));
                continue;
            }
            JmhResult first = same.get(0);
            Map<String, Metric> secondary = new LinkedHashMap<>();
            for (String name : first.secondary().keySet()) {
                List<Metric> ms = new ArrayList<>();
                List<Integer> weights = new ArrayList<>();
                for (JmhResult r : same) {
                    Metric m = r.secondary().get(name);
                    if (m != null) {
                        ms.add(m);
                        weights.add(Math.max(1, r.forks()));
                    }
                }
                secondary.put(name, weighted(name, ms, weights));
            }
            int forks = same.stream().mapToInt(r -> Math.max(1, r.forks())).sum();
            out.add(new JmhResult(first.benchmark(), first.mode(), first.params(),
                    pooled(same.stream().map(JmhResult::primary).toList()), Collections.unmodifiableMap(secondary),
                    first.jvm(), first.jvmArgs(), first.jdkVersion(), first.vmName(), first.vmVersion(),
                    first.jmhVersion(), forks, first.warmup(), first.measurement()));
        }
        return out;
    }

    private static Metric pooled(List<Metric> metrics) {
        String unit = sameUnit("primary metric", metrics);
        List<double[]> forks = new ArrayList<>();
        ListStatistics all = new ListStatistics();
        for (Metric m : metrics) {
            for (double[] fork : m.forks()) {
                forks.add(fork);
                for (double v : fork) {
                    all.addValue(v);
                }
            }
        }
        if (all.getN() == 0) {
            // No raw data to pool: the mean of the scores.
            return new Metric(metrics.stream().mapToDouble(Metric::score).average().orElse(Double.NaN), Double.NaN,
                    unit);
        }
        double error = all.getN() > 1 ? all.getMeanErrorAt(0.999) : Double.NaN;
        return new Metric(all.getMean(), error, unit, List.copyOf(forks));
    }

    private static Metric weighted(String name, List<Metric> metrics, List<Integer> weights) {
        String unit = sameUnit(name, metrics);
        double sum = 0;
        double total = 0;
        for (int i = 0; i < metrics.size(); i++) {
            sum += metrics.get(i).score() * weights.get(i);
            total += weights.get(i);
        }
        return new Metric(sum / total, Double.NaN, unit);
    }

    private static String sameUnit(String what, List<Metric> metrics) {
        String unit = metrics.get(0).unit();
        for (Metric m : metrics) {
            if (!m.unit().equals(unit)) {
                throw new IllegalArgumentException("cannot merge " + what + " in " + unit + " with one in " + m.unit());
            }
        }
        return unit;
    }

    private static Metric metric(JsonNode m) {
        List<double[]> forks = new ArrayList<>();
        for (JsonNode fork : m.path("rawData")) {
            double[] values = new double[fork.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = number(fork.get(i));
            }
            forks.add(values);
        }
        return new Metric(number(m.path("score")), number(m.path("scoreError")), m.path("scoreUnit").asText(""),
                List.copyOf(forks));
    }

    /** JMH writes NaN and infinities as strings ("NaN"). */
    private static double number(JsonNode n) {
        if (n.isNumber()) {
            return n.asDouble();
        }
        if (n.isTextual()) {
            try {
                return Double.parseDouble(n.asText().trim());
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    private static String iterations(JsonNode e, String count, String time) {
        if (!e.has(count)) {
            return "";
        }
        String t = e.path(time).asText("");
        return e.path(count).asInt() + (t.isEmpty() ? "" : " x " + t);
    }
}

package dev.checkprop.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Writes the memory/time trade-off report from a JMH JSON result file of {@link Bench02_Step}:
 * a Markdown file with the setup (machine, JVM, JMH, command), the cost model, one table per depth,
 * and a PNG plot beside it ({@link TradeoffChart}).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.checkprop.bench.TradeoffReport RESULT.json OUT.md
 *      [--png OUT.png] [--command "the command that produced RESULT.json"] [--backward-cost 2]
 * </pre>
 * The PNG defaults to OUT.md with the extension {@code .png}. Exit code 2 and one line on bad input.
 */
public final class TradeoffReport {

    private TradeoffReport() {
    }

    /** Parsed command line. */
    record Options(List<Path> jsons, Path markdown, Path png, String command, double backwardCost) {

        static Options parse(String[] args) {
            List<String> positional = new ArrayList<>();
            Path png = null;
            String command = null;
            double backwardCost = Tradeoff.DEFAULT_BACKWARD_COST;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--png" -> png = Path.of(value(args, ++i, a));
                    case "--command" -> command = value(args, ++i, a);
                    case "--backward-cost" -> {
                        String v = value(args, ++i, a);
                        try {
                            backwardCost = Double.parseDouble(v);
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--backward-cost needs a number, got '" + v + "'");
                        }
                        if (!(backwardCost >= 0) || Double.isInfinite(backwardCost)) {
                            throw new IllegalArgumentException("--backward-cost must be >= 0, got " + v);
                        }
                    }
                    case "-h", "--help" -> throw new IllegalArgumentException(USAGE);
                    default -> {
                        if (a.startsWith("--")) {
                            throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
                        }
                        positional.add(a);
                    }
                }
            }
            if (positional.size() < 2) {
                throw new IllegalArgumentException(USAGE);
            }
            Path md = Path.of(positional.get(positional.size() - 1));
            if (png == null) {
                String name = md.getFileName().toString();
                int dot = name.lastIndexOf('.');
                png = md.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".png");
            }
            List<Path> jsons = positional.subList(0, positional.size() - 1).stream().map(Path::of).toList();
            return new Options(jsons, md, png, command, backwardCost);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }
    }

    static final String USAGE = "usage: TradeoffReport RESULT.json [MORE.json ...] OUT.md [--png OUT.png]"
            + " [--command \"CMD\"] [--backward-cost C]\n"
            + "  several results (runs of the same sweep at different times) are merged: their forks pooled";

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        try {
            Options o = Options.parse(args);
            List<List<JmhResult>> runs = new ArrayList<>();
            for (Path json : o.jsons()) {
                runs.add(JmhResult.read(json));
            }
            List<JmhResult> results = runs.size() == 1 ? runs.get(0) : JmhResult.merge(runs);
            String source = o.jsons().stream().map(p -> p.getFileName().toString())
                    .collect(java.util.stream.Collectors.joining(" + "));
            List<Tradeoff.Group> groups = Tradeoff.groups(results, o.backwardCost());
            if (groups.isEmpty()) {
                throw new IllegalArgumentException(source + " has no step results (Bench02_Step with the "
                        + Tradeoff.FORWARD_EVALUATIONS + " and " + Tradeoff.PEAK_ACTIVATION_BYTES + " counters)");
            }
            Path parent = o.markdown().toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            String pngLink = relativeLink(o.markdown(), o.png());
            String md = markdown(results, groups, source, o.command(), o.backwardCost(),
                    pngLink, cpuModel(), ZonedDateTime.now(ZoneOffset.UTC));
            Files.writeString(o.markdown(), md);
            TradeoffChart.writePng(groups, o.png());
            System.out.println("wrote " + o.markdown() + " and " + o.png() + " (" + groups.size() + " networks)");
        } catch (NoSuchFileException e) {
            System.err.println("TradeoffReport: no such file: " + e.getFile());
            System.exit(2);
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("TradeoffReport: " + e.getMessage());
            System.exit(2);
        }
    }

    private static String relativeLink(Path md, Path png) {
        Path base = md.toAbsolutePath().getParent();
        Path target = png.toAbsolutePath();
        try {
            return (base == null ? target : base.relativize(target)).toString().replace('\\', '/');
        } catch (IllegalArgumentException e) {
            return target.toString();
        }
    }

    /** The CPU's model name from /proc/cpuinfo, and the processors this JVM sees. */
    static String cpuModel() {
        String model = "unknown (no /proc/cpuinfo)";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // keep "unknown"
        }
        return model + ", " + Runtime.getRuntime().availableProcessors() + " logical CPUs";
    }

    /** The whole Markdown report. */
    static String markdown(List<JmhResult> results, List<Tradeoff.Group> groups, String source, String command,
                           double backwardCost, String pngLink, String cpu, ZonedDateTime when) {
        StringBuilder b = new StringBuilder();
        b.append("# Memory/time trade-off of checkpoint plans\n\n");
        b.append("Made by `dev.checkprop.bench.TradeoffReport` from `").append(source).append("` on ")
                .append(when.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT)))
                .append(". Times are from one machine and one run: compare the rows of one table with each other,")
                .append(" not with another machine's.\n\n");

        List<JmhResult> steps = results.stream().filter(Tradeoff::isStep).toList();
        b.append("## Setup\n\n| | |\n|---|---|\n");
        b.append("| command | ").append(command == null ? "(not given: pass `--command`)" : code(command)).append(" |\n");
        b.append("| CPU | ").append(cell(cpu)).append(" (read from /proc/cpuinfo where the report was made) |\n");
        b.append("| JVM | ").append(cell(distinct(steps, r -> r.vmName() + " " + r.vmVersion() + " (JDK "
                + r.jdkVersion() + ")"))).append(" |\n");
        b.append("| JVM executable | ").append(code(distinct(steps, JmhResult::jvm))).append(" |\n");
        b.append("| JVM arguments | ").append(code(distinct(steps, r -> String.join(" ", r.jvmArgs())))).append(" |\n");
        b.append("| JMH | ").append(cell(distinct(steps, r -> r.jmhVersion() + "; " + r.forks() + " fork(s); warm-up "
                + r.warmup() + "; measurement " + r.measurement() + "; mode " + r.mode()))).append(" |\n");
        b.append("| benchmark | ").append(cell(distinct(steps, JmhResult::shortName)))
                .append(": one training step (forward, MSE loss, backward) of a chain of tanh dense layers |\n\n");

        b.append("## How to read the tables\n\n");
        b.append("- **peak activations**: the most activation bytes live at once during the step, as the executor")
                .append(" counted them (buffers of 4 x width x batch bytes; the input a^0 is not counted).\n");
        b.append("- **forward evaluations** E: layer forwards per step; full storage does L, every other plan")
                .append(" recomputes some.\n");
        b.append("- **time per step**: JMH's average, with its 99.9% confidence half-width (none for a single")
                .append(" measurement).\n");
        b.append("- **vs full**: time per step / time per step with full storage.\n");
        b.append("- **predicted**: what the evaluation count alone predicts for that ratio. The model: a forward")
                .append(" evaluation of a layer costs 1, the layer's backward costs c = ").append(num(backwardCost))
                .append(" (two products of the forward's size: the gradients for the input and for the weights),")
                .append(" so a step costs E + cL and full storage L + cL:\n\n");
        b.append("  predicted = (E + c·L) / (L + c·L) = (E + ").append(num(backwardCost)).append("L) / (")
                .append(num(1 + backwardCost)).append("L)\n\n");
        b.append("- **gap**: measured / predicted − 1. Positive: slower than the arithmetic says (overhead per")
                .append(" action, cache misses on recomputation); negative: faster (e.g. a working set that fits")
                .append(" in cache).\n");
        b.append("- **per fork**: the mean of each JVM fork separately. On a shared machine a whole fork can run")
                .append(" in a slow period; forks that disagree by more than the error bars say so.\n");
        b.append("- **forward ms, backward ms**: the step split by phase with the executor's own clock (mean per")
                .append(" step), and the forward time per evaluation. The model assumes that a forward evaluation")
                .append(" costs the same in every plan and that the backward pass is the same for every plan; these")
                .append(" columns show where a gap comes from.\n");
        b.append("- **Pareto**: ✓ when no other plan of the same network is at least as good in both memory and")
                .append(" time (and better in one). The plot joins these points.\n\n");
        b.append("![time per step relative to full storage against peak activation memory](").append(pngLink)
                .append(")\n\n");

        for (Tradeoff.Group g : groups) {
            appendGroup(b, g, backwardCost);
        }

        List<JmhResult> others = results.stream().filter(r -> !Tradeoff.isStep(r)).toList();
        if (!others.isEmpty()) {
            b.append("## Other benchmarks in ").append(code(source)).append("\n\n");
            b.append("| benchmark | parameters | score | secondary metrics |\n|---|---|--:|---|\n");
            for (JmhResult r : others) {
                StringBuilder sec = new StringBuilder();
                for (Map.Entry<String, JmhResult.Metric> e : r.secondary().entrySet()) {
                    sec.append(sec.length() == 0 ? "" : "; ").append(e.getKey()).append(' ')
                            .append(withError(e.getValue().score(), e.getValue().error())).append(' ')
                            .append(e.getValue().unit());
                }
                b.append("| ").append(cell(r.shortName())).append(" | ").append(cell(params(r.params())))
                        .append(" | ").append(withError(r.primary().score(), r.primary().error())).append(' ')
                        .append(cell(r.primary().unit())).append(" | ").append(cell(sec.toString())).append(" |\n");
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static void appendGroup(StringBuilder b, Tradeoff.Group g, double backwardCost) {
        b.append("## ").append(g.title()).append("\n\n");
        long bufferBytes = bufferBytes(g);
        boolean hasFull = g.rows().stream().anyMatch(r -> !Double.isNaN(r.relative()));
        if (!hasFull) {
            b.append("No `full` plan was measured for this network, so there is no relative time.\n\n");
        }
        boolean phases = g.rows().stream().anyMatch(r -> !Double.isNaN(r.point().forwardMs()));
        boolean forks = g.rows().stream().anyMatch(r -> r.point().forkMs().length > 1);
        b.append("| plan | peak activations | forward evaluations | time per step (ms) |")
                .append(forks ? " per fork (ms) |" : "")
                .append(" vs full | predicted | gap |")
                .append(phases ? " forward ms (µs per evaluation) | backward ms |" : "")
                .append(" Pareto |\n");
        b.append("|---|--:|--:|--:|").append(forks ? "--:|" : "").append("--:|--:|--:|")
                .append(phases ? "--:|--:|" : "").append(":-:|\n");
        for (Tradeoff.Row r : g.rows()) {
            Tradeoff.Point p = r.point();
            String plan = p.plan().equals(p.resolved()) ? code(p.plan()) : code(p.resolved()) + " (" + code(p.plan()) + ")";
            String mem = bytes(p.peakBytes()) + (bufferBytes > 0 && p.peakBytes() % bufferBytes == 0
                    ? " (" + (p.peakBytes() / bufferBytes) + " buf)" : "");
            String evals = p.forwardEvaluations() + String.format(Locale.ROOT, " (%.2f L)",
                    p.forwardEvaluations() / (double) g.layers());
            b.append("| ").append(plan)
                    .append(" | ").append(mem)
                    .append(" | ").append(evals)
                    .append(" | ").append(withError(p.timeMs(), p.errorMs()))
                    .append(forks ? " | " + forkCell(p) : "")
                    .append(" | ").append(Double.isNaN(r.relative()) ? "—" : withError(r.relative(), r.relativeError(), 2))
                    .append(" | ").append(String.format(Locale.ROOT, "%.2f", r.predicted()))
                    .append(" | ").append(Double.isNaN(r.gapPercent()) ? "—"
                            : String.format(Locale.ROOT, "%+.1f%%", r.gapPercent()))
                    .append(phases ? " | " + phaseCells(p) : "")
                    .append(" | ").append(r.pareto() ? "✓" : "")
                    .append(" |\n");
        }
        b.append('\n');
        if (phases) {
            appendPhaseNote(b, g, backwardCost);
        }
    }

    private static String forkCell(Tradeoff.Point p) {
        StringBuilder c = new StringBuilder();
        for (double t : p.forkMs()) {
            c.append(c.length() == 0 ? "" : " / ").append(String.format(Locale.ROOT, t >= 100 ? "%.0f" : "%.1f", t));
        }
        return c.length() == 0 ? "—" : c.toString();
    }

    private static String phaseCells(Tradeoff.Point p) {
        if (Double.isNaN(p.forwardMs())) {
            return "— | —";
        }
        return String.format(Locale.ROOT, "%.1f (%.1f) | %.1f", p.forwardMs(), p.microsPerForward(), p.backwardMs());
    }

    /**
     * What the phase split says about the count model for this network: the model assumes every
     * forward evaluation costs what it costs in full storage and the backward pass is the same for
     * every plan, so the forward cost per evaluation and the backward time, compared with full
     * storage's, locate each plan's gap.
     */
    private static void appendPhaseNote(StringBuilder b, Tradeoff.Group g, double backwardCost) {
        Tradeoff.Point full = null;
        for (Tradeoff.Row r : g.rows()) {
            if (r.point().resolved().trim().equalsIgnoreCase("full") && !Double.isNaN(r.point().forwardMs())) {
                full = r.point();
            }
        }
        if (full == null) {
            return;
        }
        b.append(String.format(Locale.ROOT, "Full storage here: %.1f µs per forward evaluation, backward %.1f ms"
                        + " = %.2f× its forward pass (the model's c is %s).",
                full.microsPerForward(), full.backwardMs(), full.backwardMs() / full.forwardMs(),
                num(backwardCost)));
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        String loPlan = "";
        String hiPlan = "";
        for (Tradeoff.Row r : g.rows()) {
            Tradeoff.Point p = r.point();
            if (p == full || Double.isNaN(p.forwardMs())) {
                continue;
            }
            double perEval = p.microsPerForward() / full.microsPerForward();
            if (perEval < lo) {
                lo = perEval;
                loPlan = p.resolved();
            }
            if (perEval > hi) {
                hi = perEval;
                hiPlan = p.resolved();
            }
        }
        if (lo <= hi) {
            b.append(String.format(Locale.ROOT, " Per forward evaluation the other plans take %.2f× (%s) to %.2f× (%s)"
                    + " of full storage's time.", lo, code(loPlan), hi, code(hiPlan)));
        }
        b.append("\n\n");
        StringBuilder gaps = new StringBuilder();
        for (Tradeoff.Row r : g.rows()) {
            Tradeoff.Point p = r.point();
            if (p == full || Double.isNaN(r.gapPercent()) || Math.abs(r.gapPercent()) <= GAP_TO_EXPLAIN
                    || Double.isNaN(p.forwardMs())) {
                continue;
            }
            gaps.append(String.format(Locale.ROOT, "- %s %+.1f%%: a forward evaluation costs %.2f× full storage's,"
                            + " the backward pass %.2f× full storage's",
                    code(p.resolved()), r.gapPercent(), p.microsPerForward() / full.microsPerForward(),
                    p.backwardMs() / full.backwardMs()));
            double[] forks = p.forkMs();
            if (forks.length > 1) {
                double min = Arrays.stream(forks).min().orElse(Double.NaN);
                double max = Arrays.stream(forks).max().orElse(Double.NaN);
                gaps.append(String.format(Locale.ROOT, "; its forks are %.0f%% apart", (max / min - 1) * 100));
            }
            gaps.append(".\n");
        }
        if (gaps.length() > 0) {
            b.append("Gaps beyond ±").append(num(GAP_TO_EXPLAIN)).append("%, by phase:\n\n").append(gaps).append('\n');
        }
    }

    /** Gaps (in percent) larger than this get a line that splits them by phase. */
    static final double GAP_TO_EXPLAIN = 5;

    /** Bytes of one activation buffer (4 x width x batch), or 0 when the parameters do not say. */
    private static long bufferBytes(Tradeoff.Group g) {
        try {
            return 4L * Integer.parseInt(g.others().get("width")) * Integer.parseInt(g.others().get("batch"));
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private static String distinct(List<JmhResult> rs, Function<JmhResult, String> f) {
        Set<String> values = new LinkedHashSet<>();
        for (JmhResult r : rs) {
            values.add(f.apply(r));
        }
        return String.join(" / ", values);
    }

    private static String params(Map<String, String> params) {
        StringBuilder s = new StringBuilder();
        for (Map.Entry<String, String> e : params.entrySet()) {
            s.append(s.length() == 0 ? "" : ", ").append(e.getKey()).append('=').append(e.getValue());
        }
        return s.toString();
    }

    /** Bytes in B, KiB, MiB or GiB, with 3 significant digits or so. */
    static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes / 1024.0;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, v < 10 ? "%.2f %s" : "%.1f %s", v, units[u]);
    }

    /** A value with its error, both with the decimals the value's size calls for. */
    static String withError(double value, double error) {
        double a = Math.abs(value);
        int decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
        return withError(value, error, decimals);
    }

    static String withError(double value, double error, int decimals) {
        String f = "%." + decimals + "f";
        String v = String.format(Locale.ROOT, f, value);
        if (Double.isNaN(error)) {
            return v;
        }
        return v + " ± " + String.format(Locale.ROOT, f, error);
    }

    private static String num(double x) {
        return x == Math.rint(x) ? Long.toString((long) x) : Double.toString(x);
    }

    /** Inline code for a table cell: backticks, with pipes escaped. */
    private static String code(String s) {
        String t = s.replace("|", "\\|").replace("\n", " ");
        return t.contains("`") ? "`` " + t + " ``" : "`" + t + "`";
    }

    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }
}

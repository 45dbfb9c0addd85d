package dev.checkprop.bench;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report on a tiny hand-written JMH result (src/test/resources/tiny-result.json): two networks,
 * L = 16 with full, optimal:sqrtL (= optimal:4) and binomial:4, and L = 4 with full only (in us/op),
 * plus one planning result that is not a step.
 */
class TradeoffReportTest {

    private static List<JmhResult> results;
    private static List<Tradeoff.Group> groups;

    @BeforeAll
    static void read() throws IOException {
        try (InputStream in = TradeoffReportTest.class.getResourceAsStream("/tiny-result.json")) {
            assertNotNull(in, "tiny-result.json on the test class path");
            results = JmhResult.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        groups = Tradeoff.groups(results, Tradeoff.DEFAULT_BACKWARD_COST);
    }

    @Test
    void parsesEntriesWithJvmFactsAndNaNErrors() {
        assertEquals(5, results.size());
        JmhResult first = results.get(0);
        assertEquals("Bench02_Step.step", first.shortName());
        assertEquals("avgt", first.mode());
        assertEquals("full", first.param("plan"));
        assertEquals(16, first.intParam("layers"));
        assertEquals("/opt/jdk/bin/java", first.jvm());
        assertEquals(List.of("--add-modules", "jdk.incubator.vector", "-Xmx8g"), first.jvmArgs());
        assertEquals("17.0.15", first.jdkVersion());
        assertEquals("OpenJDK 64-Bit Server VM", first.vmName());
        assertEquals("1.37", first.jmhVersion());
        assertEquals("3 x 2 s", first.warmup());
        assertEquals("5 x 3 s", first.measurement());
        assertEquals(10.0, first.primary().score());
        assertEquals(0.5, first.primary().error());
        assertEquals(2048.0, first.secondary().get("peakActivationBytes").score());
        assertTrue(Double.isNaN(first.secondary().get("forwardEvaluations").error()), "\"NaN\" reads as NaN");
        assertTrue(Tradeoff.isStep(first));
        assertFalse(Tradeoff.isStep(results.get(4)), "a planning result is not a step");
    }

    @Test
    void rejectsWhatIsNotAJmhResult() {
        assertThrows(IllegalArgumentException.class, () -> JmhResult.parse("{\"benchmark\": \"x\"}"));
        assertThrows(IllegalArgumentException.class, () -> JmhResult.parse("[{\"mode\": \"avgt\"}]"));
    }

    @Test
    void groupsByNetworkSortedByDepth() {
        assertEquals(2, groups.size());
        assertEquals(4, groups.get(0).layers());
        assertEquals(16, groups.get(1).layers());
        assertEquals("L = 16 (width 4, batch 8, threads all)", groups.get(1).title());
    }

    @Test
    void rowsCarryRelativeTimePredictionAndGap() {
        List<Tradeoff.Row> rows = groups.get(1).rows();
        assertEquals(List.of("full", "binomial:4", "optimal:4"),
                rows.stream().map(r -> r.point().resolved()).toList(), "largest memory first");
        assertEquals("optimal:sqrtL", rows.get(2).point().plan());

        Tradeoff.Row full = rows.get(0);
        assertEquals(1.0, full.relative());
        assertEquals(1.0, full.predicted());
        assertEquals(0.0, full.gapPercent(), 1e-12);

        Tradeoff.Row optimal = rows.get(2);
        assertEquals(512, optimal.point().peakBytes());
        assertEquals(30, optimal.point().forwardEvaluations());
        assertEquals(1.4, optimal.relative(), 1e-12);
        assertEquals((30 + 2 * 16) / (3.0 * 16), optimal.predicted(), 1e-12);
        assertEquals((1.4 / ((30 + 32) / 48.0) - 1) * 100, optimal.gapPercent(), 1e-9);
        assertEquals(1.4 * Math.hypot(0.05, 0.05), optimal.relativeError(), 1e-12);

        Tradeoff.Row binomial = rows.get(1);
        assertEquals(1.5, binomial.predicted(), 1e-12);
        assertTrue(Double.isNaN(binomial.relativeError()), "no error for a single measurement");
    }

    @Test
    void convertsTimeUnitsToMilliseconds() {
        Tradeoff.Row small = groups.get(0).rows().get(0);
        assertEquals(2.5, small.point().timeMs(), 1e-12);
        assertEquals(0.1, small.point().errorMs(), 1e-12);
        double[] thrpt = Tradeoff.millisPerOp(new JmhResult.Metric(4.0, 0.4, "ops/s"));
        assertEquals(250.0, thrpt[0], 1e-9);
        assertEquals(25.0, thrpt[1], 1e-9);
        assertThrows(IllegalArgumentException.class, () -> Tradeoff.millisPerOp(new JmhResult.Metric(1, 0, "#")));
    }

    @Test
    void paretoFrontOfAGroup() {
        List<Tradeoff.Row> rows = groups.get(1).rows();
        assertTrue(rows.get(0).pareto(), "full: nothing is faster");
        assertFalse(rows.get(1).pareto(), "binomial:4 has more memory and more time than optimal:4");
        assertTrue(rows.get(2).pareto(), "optimal:4: nothing has less memory");
        assertEquals(List.of("optimal:4", "full"),
                groups.get(1).front().stream().map(r -> r.point().resolved()).toList(), "front by memory, ascending");
    }

    @Test
    void paretoHandlesTiesAndNaN() {
        double[] x = {1, 2, 2, 3, 1, Double.NaN, 4};
        double[] y = {5, 3, 3, 1, 6, 0, 1};
        // (1,5) optimal; (2,3) twice: equal points are both optimal; (3,1) optimal; (1,6) dominated by
        // (1,5); NaN neither dominates nor is optimal; (4,1) dominated by (3,1).
        assertArrayEquals(new boolean[] {true, true, true, true, false, false, false}, Tradeoff.pareto(x, y));
    }

    @Test
    void markdownHasSetupModelTablesAndOtherResults() {
        String md = TradeoffReport.markdown(results, groups, "tiny-result.json", "java -jar benchmarks.jar Bench02_Step",
                2.0, "tradeoff.png", "Test CPU, 2 logical CPUs", ZonedDateTime.of(2026, 1, 2, 3, 4, 0, 0, ZoneOffset.UTC));
        assertTrue(md.contains("| command | `java -jar benchmarks.jar Bench02_Step` |"), md);
        assertTrue(md.contains("| CPU | Test CPU, 2 logical CPUs"), md);
        assertTrue(md.contains("OpenJDK 64-Bit Server VM 17.0.15+6 (JDK 17.0.15)"), md);
        assertTrue(md.contains("`--add-modules jdk.incubator.vector -Xmx8g`"), md);
        assertTrue(md.contains("predicted = (E + c·L) / (L + c·L) = (E + 2L) / (3L)"), md);
        assertTrue(md.contains("![time per step relative to full storage against peak activation memory](tradeoff.png)"), md);
        assertTrue(md.contains("## L = 4 (width 4, batch 8, threads all)"), md);
        assertTrue(md.contains("## L = 16 (width 4, batch 8, threads all)"), md);
        assertTrue(md.contains("| `full` | 2.00 KiB (16 buf) | 16 (1.00 L) | 10.0 ± 0.5 | 1.00 | 1.00 | +0.0% | 3.0 (187.5) | 6.5 | ✓ |"), md);
        assertTrue(md.contains("| `optimal:4` (`optimal:sqrtL`) | 512 B (4 buf) | 30 (1.88 L) | 14.0 ± 0.7 | 1.40 ± 0.10 | 1.29 | +8.4% | 6.0 (200.0) | 7.5 | ✓ |"), md);
        assertTrue(md.contains("| `binomial:4` | 640 B (5 buf) | 40 (2.50 L) | 16.0 | 1.60 | 1.50 | +6.7% | — | — |  |"), md);
        assertTrue(md.contains("Full storage here: 187.5 µs per forward evaluation, backward 6.5 ms = 2.17× its forward pass"
                + " (the model's c is 2). Per forward evaluation the other plans take 1.07× (`optimal:4`) to 1.07×"
                + " (`optimal:4`) of full storage's time."), md);
        // optimal:4's +8.4% gap, split by phase: 200 / 187.5 per evaluation, 7.5 / 6.5 backward.
        assertTrue(md.contains("- `optimal:4` +8.4%: a forward evaluation costs 1.07× full storage's, the backward"
                + " pass 1.15× full storage's."), md);
        // The L = 4 network has no phase counters: its table keeps the narrow header.
        assertTrue(md.contains("| plan | peak activations | forward evaluations | time per step (ms) | vs full | predicted | gap | Pareto |"), md);
        assertTrue(md.contains("## Other benchmarks in `tiny-result.json`"), md);
        assertTrue(md.contains("| Bench01_Planning.plan | case_=binomial:8@100000 | 12.5 ± 1.5 ms/op |"), md);
    }

    /**
     * Two forks that disagree: the table shows each fork's mean beside JMH's overall score, in ms
     * whatever the benchmark's unit.
     */
    @Test
    void showsEachForkWhenThereAreSeveral() throws IOException {
        String entry = """
                {"benchmark": "dev.checkprop.bench.Bench02_Step.step", "mode": "avgt", "forks": 2,
                 "params": {"batch": "8", "layers": "4", "plan": "%s", "threads": "all", "width": "4"},
                 "primaryMetric": {"score": %s, "scoreError": 1.0, "scoreUnit": "us/op",
                                   "rawData": [%s]},
                 "secondaryMetrics": {
                   "forwardEvaluations": {"score": %s, "scoreError": "NaN", "scoreUnit": "#"},
                   "peakActivationBytes": {"score": %s, "scoreError": "NaN", "scoreUnit": "#"}}}
                """;
        String json = "[" + String.format(entry, "full", "2000", "[1000, 2000], [2500, 2500]", "4", "512")
                + "," + String.format(entry, "sqrt", "3000", "[3000], [3000]", "6", "256") + "]";
        List<JmhResult> rs = JmhResult.parse(json);
        assertArrayEquals(new double[] {1500, 2500}, rs.get(0).primary().forkMeans(), 0);
        List<Tradeoff.Group> gs = Tradeoff.groups(rs, 2.0);
        assertArrayEquals(new double[] {1.5, 2.5}, gs.get(0).rows().get(0).point().forkMs(), 1e-12);
        String md = TradeoffReport.markdown(rs, gs, "two-forks.json", "cmd", 2.0, "t.png", "cpu",
                ZonedDateTime.of(2026, 1, 2, 3, 4, 0, 0, ZoneOffset.UTC));
        assertTrue(md.contains("| time per step (ms) | per fork (ms) | vs full |"), md);
        assertTrue(md.contains("| `full` | 512 B (4 buf) | 4 (1.00 L) | 2.00 ± 0.00 | 1.5 / 2.5 | 1.00 |"), md);
        assertTrue(md.contains("| `sqrt` | 256 B (2 buf) | 6 (1.50 L) | 3.00 ± 0.00 | 3.0 / 3.0 | 1.50 ± 0.00 |"), md);
    }

    /**
     * Two runs of the same sweep: forks pooled, the score and error recomputed from all the
     * measurements as JMH computes them, counters averaged by forks, other entries kept.
     */
    @Test
    void mergesRunsByPoolingTheirForks() throws IOException {
        String entry = """
                {"benchmark": "dev.checkprop.bench.Bench02_Step.step", "mode": "avgt", "forks": %d,
                 "params": {"batch": "8", "layers": "4", "plan": "%s", "threads": "all", "width": "4"},
                 "primaryMetric": {"score": 0, "scoreError": 0, "scoreUnit": "ms/op", "rawData": [%s]},
                 "secondaryMetrics": {
                   "forwardEvaluations": {"score": 4, "scoreError": "NaN", "scoreUnit": "#"},
                   "peakActivationBytes": {"score": 512, "scoreError": "NaN", "scoreUnit": "#"},
                   "forwardMs": {"score": %s, "scoreError": "NaN", "scoreUnit": "#"}}}
                """;
        List<JmhResult> a = JmhResult.parse("[" + String.format(entry, 2, "full", "[1, 2], [3, 4]", "1.0") + ","
                + String.format(entry, 1, "sqrt", "[7]", "5.0") + "]");
        List<JmhResult> b = JmhResult.parse("[" + String.format(entry, 1, "full", "[5, 6]", "4.0") + "]");
        List<JmhResult> merged = JmhResult.merge(List.of(a, b));
        assertEquals(2, merged.size(), "full merged, sqrt kept");
        JmhResult full = merged.get(0);
        assertEquals("full", full.param("plan"));
        assertEquals(3, full.forks());
        assertArrayEquals(new double[] {1.5, 3.5, 5.5}, full.primary().forkMeans(), 0);
        assertEquals(3.5, full.primary().score(), 1e-12, "the mean of all six measurements");
        org.openjdk.jmh.util.ListStatistics stats = new org.openjdk.jmh.util.ListStatistics(new double[] {1, 2, 3, 4, 5, 6});
        assertEquals(stats.getMeanErrorAt(0.999), full.primary().error(), 1e-12);
        assertEquals((1.0 * 2 + 4.0 * 1) / 3, full.secondary().get("forwardMs").score(), 1e-12, "weighted by forks");
        assertEquals(4, full.secondary().get("forwardEvaluations").score(), 0);
        assertEquals(merged.get(1), a.get(1));
        List<JmhResult> otherUnit = JmhResult.parse("[" + String.format(entry, 1, "full", "[5]", "1")
                .replace("ms/op", "us/op") + "]");
        assertThrows(IllegalArgumentException.class, () -> JmhResult.merge(List.of(a, otherUnit)));
    }

    @Test
    void writesAReadablePng(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("out/tradeoff.png");
        TradeoffChart.writePng(groups, png);
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "a PNG");
        assertEquals(1100, image.getWidth());
        assertEquals(700, image.getHeight());
    }

    @Test
    void bytesInReadableUnits() {
        assertEquals("512 B", TradeoffReport.bytes(512));
        assertEquals("1.50 KiB", TradeoffReport.bytes(1536));
        assertEquals("1.13 MiB", TradeoffReport.bytes(9 * 131072));
        assertEquals("128.0 MiB", TradeoffReport.bytes(1024L * 131072));
        assertEquals("2.00 GiB", TradeoffReport.bytes(2L << 30));
    }

    @Test
    void optionsDefaultThePngBesideTheMarkdown() {
        TradeoffReport.Options o = TradeoffReport.Options.parse(new String[] {"r.json", "docs/tradeoff.md", "--command", "x y"});
        assertEquals(Path.of("docs/tradeoff.png"), o.png());
        assertEquals("x y", o.command());
        assertEquals(2.0, o.backwardCost());
        assertEquals(List.of(Path.of("r.json")), o.jsons());
        TradeoffReport.Options two = TradeoffReport.Options.parse(new String[] {"a.json", "b.json", "out.md"});
        assertEquals(List.of(Path.of("a.json"), Path.of("b.json")), two.jsons());
        assertEquals(Path.of("out.md"), two.markdown());
        assertThrows(IllegalArgumentException.class, () -> TradeoffReport.Options.parse(new String[] {"r.json"}));
        assertThrows(IllegalArgumentException.class,
                () -> TradeoffReport.Options.parse(new String[] {"r.json", "o.md", "--backward-cost", "-1"}));
    }
}

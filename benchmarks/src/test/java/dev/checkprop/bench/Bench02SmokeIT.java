package dev.checkprop.bench;

import dev.checkprop.plan.PlanStats;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CI smoke run (failsafe, {@code mvn verify}): the shaded {@code benchmarks.jar}, as a user runs
 * it, measures Bench02_Step for about a second per plan on a small network, in-process
 * ({@code -f 0}), fails on any benchmark error ({@code -foe true}); the JSON must carry both aux
 * counters with the plan's own statistics; then the report, also from the jar, must write its
 * Markdown and a PNG. Nothing is downloaded: the jar holds everything. About 15 s.
 */
class Bench02SmokeIT {

    private static final int LAYERS = 16;
    private static final int WIDTH = 64;
    private static final int BATCH = 128;
    private static final List<String> PLANS = List.of("full", "sqrt", "optimal:sqrtL");

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void benchmarkAndReportRunFromTheShadedJar() throws Exception {
        Path jar = Path.of(System.getProperty("benchmarks.jar", "target/benchmarks.jar"));
        assertTrue(Files.isRegularFile(jar), jar + " exists (mvn package builds it)");
        Path dir = Path.of(System.getProperty("smoke.dir", "target/smoke"));
        Files.createDirectories(dir);
        Path json = dir.resolve("result.json");
        Files.deleteIfExists(json);

        run(dir.resolve("jmh.log"), 90, java("--add-modules", "jdk.incubator.vector", "-Xmx1g", "-jar", jar.toString(),
                "Bench02_Step", "-p", "layers=" + LAYERS, "-p", "width=" + WIDTH, "-p", "batch=" + BATCH,
                "-p", "plan=" + String.join(",", PLANS), "-p", "threads=all",
                "-f", "0", "-wi", "0", "-i", "1", "-r", "1s", "-foe", "true", "-rf", "json", "-rff", json.toString()));

        List<JmhResult> results = JmhResult.read(json);
        assertEquals(PLANS.size(), results.size(), "one result per plan");
        for (JmhResult r : results) {
            assertTrue(Tradeoff.isStep(r), r.params() + " has both aux counters");
            String resolved = PlanSpec.resolve(r.param("plan"), LAYERS, WIDTH, BATCH);
            PlanStats stats = Planners.parse(resolved).plan(LAYERS).stats();
            assertEquals(stats.forwardEvaluations(),
                    Math.round(r.secondary().get(Tradeoff.FORWARD_EVALUATIONS).score()), resolved + " evaluations");
            assertEquals(4L * WIDTH * BATCH * stats.peakLiveBuffers(),
                    Math.round(r.secondary().get(Tradeoff.PEAK_ACTIVATION_BYTES).score()), resolved + " peak bytes");
            assertTrue(r.primary().score() > 0, "a time per step");
            double forward = r.secondary().get(Tradeoff.FORWARD_MS).score();
            double backward = r.secondary().get(Tradeoff.BACKWARD_MS).score();
            assertTrue(forward > 0 && backward > 0, resolved + " phase times " + forward + ", " + backward);
            // Both phases happen inside the step (the loss and the input transpose are the rest).
            assertTrue(forward + backward <= r.primary().score() * 1.5, resolved + " phases within the step");
        }

        Path md = dir.resolve("tradeoff.md");
        Path png = dir.resolve("tradeoff.png");
        Files.deleteIfExists(md);
        Files.deleteIfExists(png);
        run(dir.resolve("report.log"), 60, java("-cp", jar.toString(), "dev.checkprop.bench.TradeoffReport",
                json.toString(), md.toString(), "--command", "Bench02SmokeIT"));
        String text = Files.readString(md);
        assertTrue(text.contains("## L = " + LAYERS + " (width " + WIDTH + ", batch " + BATCH + ", threads all)"), text);
        assertTrue(text.contains("| `optimal:4` (`optimal:sqrtL`) |"), text);
        assertNotNull(ImageIO.read(png.toFile()), "a readable PNG");
    }

    private static List<String> java(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Djava.awt.headless=true");
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static void run(Path log, int seconds, List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail("timed out after " + seconds + " s: " + String.join(" ", cmd) + "\n" + Files.readString(log));
        }
        if (p.exitValue() != 0) {
            fail("exit " + p.exitValue() + ": " + String.join(" ", cmd) + "\n" + Files.readString(log));
        }
    }
}

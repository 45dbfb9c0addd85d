package dev.checkprop.cli;

import dev.checkprop.exec.Executor;
import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The heap-limit proof: a child JVM with {@code -Xmx256m} on a network whose full-storage
 * activations (320 MiB) do not fit. {@code --plan full} stops before it runs with a message naming
 * the heap; {@code --plan auto} succeeds, without micro-batching, and writes gradients
 * byte-identical to full storage computed here, in the test's larger heap.
 */
class HeapLimitTest {

    @TempDir
    Path dir;

    static final int LAYERS = 1024;
    static final int WIDTH = 64;
    static final int BATCH = 1280;

    private static Result child(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "dev.checkprop.cli.Main"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child JVM timed out");
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    record Result(int code, String out, String err) {
    }

    @Test
    void fullIsRefusedBeforeItRunsAndAutoFitsWithIdenticalGradients() throws Exception {
        Network net = Network.builder(WIDTH).dense(LAYERS, WIDTH, Activation.TANH).build(3);
        float[] x = new float[BATCH * WIDTH];
        float[] y = new float[BATCH * WIDTH];
        for (int i = 0; i < x.length; i++) {
            x[i] = 2f * Seeds.uniform(4, 1, i) - 1f;
            y[i] = 2f * Seeds.uniform(4, 2, i) - 1f;
        }
        Batch data = Batch.regression(x, WIDTH, y, WIDTH);
        Path model = dir.resolve("model.safetensors");
        Path dataFile = dir.resolve("data.safetensors");
        ModelFile.save(net, model);
        ModelFile.saveData(data, dataFile);
        assertTrue(4L * LAYERS * WIDTH * BATCH > 256L << 20, "full storage must not fit the child's heap");

        Result full = child("grad", "--model", model.toString(), "--data", dataFile.toString(), "--loss", "mse",
                "--plan", "full", "--out", dir.resolve("full.safetensors").toString());
        assertEquals(Main.EXIT_ERROR, full.code(), full.out() + full.err());
        assertTrue(full.err().contains("plan full needs") && full.err().contains("this JVM can give"), full.err());
        assertTrue(!full.err().contains("OutOfMemoryError"), full.err());
        assertTrue(!Files.exists(dir.resolve("full.safetensors")), "nothing may be written");

        Path report = dir.resolve("auto.json");
        Path out = dir.resolve("auto.safetensors");
        Result auto = child("grad", "--model", model.toString(), "--data", dataFile.toString(), "--loss", "mse",
                "--plan", "auto", "--out", out.toString(), "--report", report.toString());
        assertEquals(0, auto.code(), auto.out() + auto.err());
        String json = Files.readString(report);
        assertTrue(json.contains("\"micro_batches\" : 1"), json);

        Gradients expected = Gradients.zerosLike(net);
        double loss;
        try (Executor ex = new Executor(net, Planners.parse("full").plan(LAYERS), BATCH)) {
            loss = ex.gradient(data, Loss.MSE, expected);
        }
        byte[] want = ModelFile.gradientsToSafeTensors(net, expected, loss).toBytes();
        assertArrayEquals(want, SafeTensors.read(out).toBytes(), "auto's gradients differ from full storage's");
    }
}

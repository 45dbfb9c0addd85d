package dev.checkprop.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line end to end, on files it writes itself. */
class CliTest {

    @TempDir
    Path dir;

    Path model;
    Path data;
    Path labelled;

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    static float[] uniform(int n, long stream) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = 2f * Seeds.uniform(99, stream, i) - 1f;
        }
        return a;
    }

    @BeforeEach
    void files() throws IOException {
        // The acceptance shape: L = 64, width 32, batch 16, tanh.
        Network net = Network.builder(32).dense(64, 32, Activation.TANH).build(64);
        model = dir.resolve("model.safetensors");
        ModelFile.save(net, model);
        data = dir.resolve("data.safetensors");
        ModelFile.saveData(Batch.regression(uniform(16 * 32, 1), 32, uniform(16 * 32, 2), 32), data);
        labelled = dir.resolve("labels.safetensors");
        int[] labels = new int[16];
        Arrays.setAll(labels, i -> i % 32);
        ModelFile.saveData(Batch.classification(uniform(16 * 32, 1), 32, labels), labelled);
    }

    @Test
    void gradientFilesAreByteIdenticalAcrossPlansAndCountsMatchTheFormulas() throws IOException {
        String[] plans = {"full", "uniform:8", "sqrt", "binomial:4", "optimal:6"};
        long[] expectedEvals = {64, 64 + (8 - 1) * (8 - 1), 64 + (8 - 1) * (8 - 1), binomialTotal(64, 4), -1};
        byte[] reference = null;
        ObjectMapper json = new ObjectMapper();
        for (int p = 0; p < plans.length; p++) {
            Path out = dir.resolve("g" + p + ".safetensors");
            Path report = dir.resolve("r" + p + ".json");
            Result r = run("grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse",
                    "--plan", plans[p], "--out", out.toString(), "--report", report.toString());
            assertEquals(0, r.code(), r.err());
            byte[] bytes = Files.readAllBytes(out);
            if (reference == null) {
                reference = bytes;
            } else {
                assertArrayEquals(reference, bytes, plans[p] + " wrote different gradient bytes than full");
            }
            JsonNode rep = json.readTree(report.toFile());
            assertEquals(plans[p], rep.get("plan").asText());
            assertEquals(64, rep.get("layers").asInt());
            if (expectedEvals[p] > 0) {
                assertEquals(expectedEvals[p], rep.get("forward_evaluations").asLong(), plans[p]);
            }
            for (String key : new String[] {"peak_live_buffers", "peak_activation_bytes", "loss", "seconds"}) {
                assertTrue(rep.has(key), "report lacks " + key);
            }
            assertEquals(rep.get("peak_live_buffers").asLong() * 16 * 32 * 4, rep.get("peak_activation_bytes").asLong());
        }
        SafeTensors g = SafeTensors.read(dir.resolve("g0.safetensors"));
        assertTrue(g.has("layers.63.weight") && g.has("layers.0.bias"));
        assertTrue(g.metadata().containsKey("loss"));
    }

    /** L + t(L, S) from the closed form, computed here independently of the planner. */
    static long binomialTotal(int L, int s) {
        int r = 0;
        while (binom(s + r, s) < L) {
            r++;
        }
        return L + (long) r * L - binom(s + r, s + 1);
    }

    static long binom(int n, int k) {
        long c = 1;
        for (int i = 1; i <= k; i++) {
            c = c * (n - k + i) / i;
        }
        return c;
    }

    @Test
    void planCommandPrintsCountsAndActions() {
        Result r = run("plan", "--layers", "3", "--plan", "full", "--actions");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("F1 F2 F3 LOSS B3 D3 B2 D2 B1 D1"), r.out());
        assertTrue(r.out().contains("forward evals      3"), r.out());
    }

    @Test
    void softmaxCrossEntropyNeedsIdentityLogits() {
        Result r = run("grad", "--model", model.toString(), "--data", labelled.toString(), "--loss", "softmax-ce",
                "--plan", "full", "--out", dir.resolve("x.safetensors").toString());
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains("last layer's activation must be identity"), r.err());
    }

    private void assertFailsNaming(String expected, String... args) {
        Result r = run(args);
        assertEquals(Main.EXIT_ERROR, r.code(), r.out());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
    }

    @Test
    void badInputGetsOneLineNamingTheProblem() throws IOException {
        String out = dir.resolve("g.safetensors").toString();
        assertFailsNaming("unknown plan 'foo'", "grad", "--model", model.toString(), "--data", data.toString(),
                "--loss", "mse", "--plan", "foo", "--out", out);
        assertFailsNaming("K >= 1", "plan", "--layers", "10", "--plan", "uniform:0");
        assertFailsNaming("S >= 1", "plan", "--layers", "10", "--plan", "binomial:0");
        assertFailsNaming("at least 2", "plan", "--layers", "10", "--plan", "optimal:1");
        assertFailsNaming("unknown loss 'l1'", "grad", "--model", model.toString(), "--data", data.toString(),
                "--loss", "l1", "--plan", "full", "--out", out);
        assertFailsNaming("needs integer labels", "grad", "--model", model.toString(), "--data", data.toString(),
                "--loss", "softmax-ce", "--plan", "full", "--out", out);
        assertFailsNaming("--layers must be >= 1", "plan", "--layers", "0", "--plan", "sqrt");
        assertFailsNaming("Missing required option", "plan", "--layers", "3");

        // Data whose width does not match the model.
        Path narrow = dir.resolve("narrow.safetensors");
        ModelFile.saveData(Batch.regression(uniform(4 * 7, 1), 7, uniform(4 * 32, 2), 32), narrow);
        assertFailsNaming("width 7", "grad", "--model", model.toString(), "--data", narrow.toString(),
                "--loss", "mse", "--plan", "full", "--out", out);

        // A label out of range.
        Network ce = Network.builder(32).dense(3, 32, Activation.TANH).dense(4, Activation.IDENTITY).build(1);
        Path ceModel = dir.resolve("ce.safetensors");
        ModelFile.save(ce, ceModel);
        assertFailsNaming("out of range 0..3", "grad", "--model", ceModel.toString(), "--data", labelled.toString(),
                "--loss", "softmax-ce", "--plan", "full", "--out", out);

        // NaN in the inputs and in the weights, named by tensor and position.
        float[] x = uniform(16 * 32, 1);
        x[3 * 32 + 5] = Float.NaN;
        Path nanData = dir.resolve("nan.safetensors");
        SafeTensors.builder().putF32("x", new long[] {16, 32}, x).putF32("y", new long[] {16, 32}, uniform(16 * 32, 2))
                .build().write(nanData);
        assertFailsNaming("x[3, 5] is NaN", "grad", "--model", model.toString(), "--data", nanData.toString(),
                "--loss", "mse", "--plan", "full", "--out", out);
        Network bad = Network.builder(32).dense(2, 32, Activation.TANH).build(1);
        bad.layer(2).weights()[7] = Float.POSITIVE_INFINITY;
        Path badModel = dir.resolve("inf.safetensors");
        ModelFile.toSafeTensors(bad).write(badModel);
        assertFailsNaming("layers.1.weight[0, 7] is Infinity", "grad", "--model", badModel.toString(), "--data",
                data.toString(), "--loss", "mse", "--plan", "full", "--out", out);

        // A truncated file.
        Path cut = dir.resolve("cut.safetensors");
        byte[] full = Files.readAllBytes(model);
        Files.write(cut, Arrays.copyOf(full, full.length / 2));
        Result r = run("grad", "--model", cut.toString(), "--data", data.toString(), "--loss", "mse", "--plan", "full",
                "--out", out);
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains(cut.toString()), r.err());
    }
}

package dev.checkprop.hvp;

import dev.checkprop.reference.TestNets;
import dev.checkprop.nn.Curvature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.checkprop.cli.HvpCommand;
import dev.checkprop.exec.Executor;
import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.SafeTensorsException;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code hvp} command and the direction files it reads and writes. */
class HvpCommandTest {

    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    /** Runs the command as Main does: one-line errors, exit code 2. */
    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        PrintWriter errWriter = new PrintWriter(err, true);
        CommandLine cl = new CommandLine(new HvpCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(errWriter);
        cl.setParameterExceptionHandler((ex, a) -> {
            errWriter.println("checkprop: " + ex.getMessage());
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, p) -> {
            errWriter.println("checkprop: " + ex.getMessage());
            return 2;
        });
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path[] files(TestNets.Case c) throws Exception {
        Path model = dir.resolve("model.safetensors");
        Path data = dir.resolve("data.safetensors");
        Path vec = dir.resolve("v.safetensors");
        ModelFile.save(c.net(), model);
        ModelFile.saveData(c.data(), data);
        DirectionFile.toSafeTensors(c.net(), TestNets.direction(c.net(), 4), Map.of()).write(vec);
        return new Path[] {model, data, vec};
    }

    @Test
    void writesTheExecutorsProductUnderTheModelsTensorNames() throws Exception {
        TestNets.Case c = TestNets.mixedSoftmax(9);
        Path[] f = files(c);
        for (boolean gn : new boolean[] {false, true}) {
            Path out = dir.resolve("hv" + gn + ".safetensors");
            Path report = dir.resolve("r" + gn + ".json");
            Run r = gn ? run("--model", f[0].toString(), "--data", f[1].toString(), "--loss", "softmax-ce", "--vector",
                    f[2].toString(), "--plan", "binomial:3", "--out", out.toString(), "--report", report.toString(),
                    "--threads", "2", "--gauss-newton")
                    : run("--model", f[0].toString(), "--data", f[1].toString(), "--loss", "softmax-ce", "--vector",
                    f[2].toString(), "--plan", "binomial:3", "--out", out.toString(), "--report", report.toString(), "--threads", "2");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains(gn ? "G·v" : "H·v"), r.out());

            Network net = ModelFile.load(f[0]);
            Gradients expected = Gradients.zerosLike(net);
            try (Executor ex = Executor.forHessianProducts(net, Planners.parse("full").plan(net.depth()), c.data().size(),
                    Kernels.scalar(), 1)) {
                ex.hessianVector(c.data(), c.loss(), DirectionFile.read(f[2], net), null, expected,
                        gn ? Curvature.GAUSS_NEWTON : Curvature.HESSIAN);
            }
            SafeTensors written = SafeTensors.read(out);
            assertEquals(gn ? "gauss-newton" : "hessian", written.metadata().get("product"));
            Gradients got = DirectionFile.read(out, net);
            for (int l = 1; l <= net.depth(); l++) {
                assertArrayEquals(HvpPlanEquivalenceTest.bits(expected.weights(l)), HvpPlanEquivalenceTest.bits(got.weights(l)));
                assertArrayEquals(HvpPlanEquivalenceTest.bits(expected.bias(l)), HvpPlanEquivalenceTest.bits(got.bias(l)));
            }
            // Dropout layers have no tensors in either file.
            assertTrue(written.names().stream().allMatch(n -> n.endsWith(".weight") || n.endsWith(".bias")));
            assertEquals(2 * (net.layers().stream().filter(d -> d.hasParameters()).count()), written.names().size());

            JsonNode json = new ObjectMapper().readTree(report.toFile());
            assertEquals(gn ? "gauss-newton" : "hessian", json.get("product").asText());
            assertEquals("binomial:3", json.get("plan").asText());
            assertEquals(Directions.dot(DirectionFile.read(f[2], net), got), json.get("v_dot_product").asDouble(), 0.0);
            assertTrue(json.get("peak_state_bytes").asLong() > 0);
            if (gn) {
                assertTrue(json.get("v_dot_product").asDouble() > 0, "v·Gv > 0");
            }
        }
    }

    /** {@code --plan budget:BYTES} plans for (a, R{a}) pairs: half the pairs' full storage forces recomputation. */
    @Test
    void budgetPlansCountPairs() throws Exception {
        TestNets.Case c = TestNets.mixedMse(16);
        Path[] f = files(c);
        long pairs = dev.checkprop.memory.MemoryModel.chain(c.net(), 16, dev.checkprop.nn.StateModel.Mode.CURVATURE, dev.checkprop.memory.ArrayLayout.current().heapFootprint()).totalBytes();
        Path report = dir.resolve("budget.json");
        Run r = run("--model", f[0].toString(), "--data", f[1].toString(), "--loss", "mse", "--vector", f[2].toString(),
                "--plan", "budget:" + pairs / 2, "--out", dir.resolve("b.safetensors").toString(), "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertTrue(json.get("forward_evaluations").asLong() > c.net().depth(), json.toString());
        assertTrue(json.get("peak_state_bytes").asLong() <= pairs / 2, json.toString());
        assertEquals(dev.checkprop.memory.MemoryModel.chain(c.net(), 16, dev.checkprop.nn.StateModel.Mode.CURVATURE, dev.checkprop.memory.ArrayLayout.current()).totalBytes(),
                json.get("state_bytes_full_storage").asLong());
    }

    @Test
    void badVectorsAreOneLineErrorsNamingTheTensor() throws Exception {
        TestNets.Case c = TestNets.mixedMse(4);
        Path[] f = files(c);
        Network net = c.net();
        Path bad = dir.resolve("bad.safetensors");
        // layers.1 is the first residual block, [8, 8]: give it the wrong shape.
        SafeTensors.Builder b = SafeTensors.builder();
        Gradients v = TestNets.direction(net, 1);
        for (int l = 1; l <= net.depth(); l++) {
            if (!net.layer(l).hasParameters()) {
                continue;
            }
            long[] shape = l == 2 ? new long[] {4, 16} : new long[] {net.width(l), net.width(l - 1)};
            b.putF32("layers." + (l - 1) + ".weight", shape, v.weights(l));
            b.putF32("layers." + (l - 1) + ".bias", new long[] {net.width(l)}, v.bias(l));
        }
        b.build().write(bad);
        Run r = run("--model", f[0].toString(), "--data", f[1].toString(), "--loss", "mse", "--vector", bad.toString(),
                "--out", dir.resolve("o.safetensors").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("layers.1.weight") && r.err().contains("[8, 8]") && r.err().contains("[4, 16]"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        Path missing = dir.resolve("missing.safetensors");
        SafeTensors.Builder m = SafeTensors.builder();
        m.putF32("layers.0.weight", new long[] {8, 6}, v.weights(1));
        m.build().write(missing);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> DirectionFile.read(missing, net));
        assertTrue(e.getMessage().contains("missing tensor layers.0.bias"), e.getMessage());

        Path extra = dir.resolve("extra.safetensors");
        SafeTensors.Builder x = SafeTensors.builder();
        DirectionFile.toSafeTensors(net, v, Map.of()).tensors().values().forEach(x::put);
        x.putF32("layers.3.weight", new long[] {1}, new float[] {1f}); // layer 4 is dropout: no tensors
        x.build().write(extra);
        e = assertThrows(SafeTensorsException.class, () -> DirectionFile.read(extra, net));
        assertTrue(e.getMessage().contains("unexpected tensor layers.3.weight"), e.getMessage());

        Path nan = dir.resolve("nan.safetensors");
        Gradients withNan = TestNets.direction(net, 1);
        withNan.bias(2)[3] = Float.NaN;
        DirectionFile.toSafeTensors(net, withNan, Map.of()).write(nan);
        e = assertThrows(SafeTensorsException.class, () -> DirectionFile.read(nan, net));
        assertTrue(e.getMessage().contains("layers.1.bias[3] is NaN"), e.getMessage());

        Path i32 = dir.resolve("i32.safetensors");
        SafeTensors.Builder t = SafeTensors.builder();
        DirectionFile.toSafeTensors(net, v, Map.of()).tensors().values().stream()
                .filter(tt -> !tt.name().equals("layers.0.bias")).forEach(t::put);
        t.putI32("layers.0.bias", new long[] {8}, new int[8]);
        t.build().write(i32);
        e = assertThrows(SafeTensorsException.class, () -> DirectionFile.read(i32, net));
        assertTrue(e.getMessage().contains("layers.0.bias must be F32"), e.getMessage());
    }

    @Test
    void directionFilesRoundTrip() throws Exception {
        TestNets.Case c = TestNets.mixedSoftmax(3);
        Gradients v = TestNets.direction(c.net(), 12);
        Path p = dir.resolve("rt.safetensors");
        DirectionFile.toSafeTensors(c.net(), v, Map.of("note", "x")).write(p);
        Gradients back = DirectionFile.read(p, c.net());
        assertTrue(back.bitEquals(v));
        // The model's own reader agrees on the names: a model file is a valid direction file for itself.
        Path model = dir.resolve("m.safetensors");
        ModelFile.save(c.net(), model);
        Gradients params = DirectionFile.read(model, c.net());
        assertTrue(params.bitEquals(Directions.parametersOf(c.net())));
    }
}

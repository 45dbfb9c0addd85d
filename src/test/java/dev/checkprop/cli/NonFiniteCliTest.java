package dev.checkprop.cli;

import dev.checkprop.hvp.DirectionFile;
import dev.checkprop.io.ModelFile;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Issue 13, case 3 on the command line: exit 2 naming the layer, and no NaN file written. */
class NonFiniteCliTest {

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    private Network net() {
        return Network.builder(3).dense(3, 4, Activation.IDENTITY).dense(2, Activation.IDENTITY).build(1);
    }

    private Path data() throws IOException {
        float[] x = new float[6 * 3];
        Arrays.fill(x, 1f);
        float[] y = new float[6 * 2];
        Path p = dir.resolve("d.safetensors");
        ModelFile.saveData(Batch.regression(x, 3, y, 2), p);
        return p;
    }

    private static final String LAYER_2 = "checkprop: non-finite result: the forward pass overflows at layer 2 (layers.1,"
            + " dense identity, 4 x 4 weights up to |w| = 3.00e+38): its output a^2 is NaN or infinite although its input"
            + " is finite; the loss is NaN and nothing was written" + System.lineSeparator();

    private Path hugeModel() throws IOException {
        Network net = net();
        Arrays.fill(net.layer(1).weights(), 1f);
        Arrays.fill(net.layer(2).weights(), 3e38f);
        Path m = dir.resolve("m.safetensors");
        ModelFile.save(net, m);
        return m;
    }

    @Test
    void gradWithHugeWeightsNamesTheLayerAndWritesNothing() throws IOException {
        Path m = hugeModel();
        Path d = data();
        Path g = dir.resolve("g.safetensors");
        Path r = dir.resolve("r.json");
        Result res = run("grad", "--model", m.toString(), "--data", d.toString(), "--loss", "mse", "--out", g.toString(),
                "--report", r.toString());
        assertEquals(Main.EXIT_ERROR, res.code(), res.err());
        assertEquals(LAYER_2, res.err());
        assertFalse(Files.exists(g));
        assertFalse(Files.exists(r));
    }

    @Test
    void evalWithHugeWeightsNamesTheLayer() throws IOException {
        Path m = hugeModel();
        Result res = run("eval", "--model", m.toString(), "--data", data().toString(), "--targets", "2");
        assertEquals(Main.EXIT_ERROR, res.code(), res.out() + res.err());
        assertEquals(LAYER_2, res.err());
    }

    @Test
    void hvpWithAHugeDirectionWritesNothing() throws IOException {
        Network net = net();
        Path m = dir.resolve("m.safetensors");
        ModelFile.save(net, m);
        Gradients v = Gradients.zerosLike(net);
        for (int l = 1; l <= net.depth(); l++) {
            Arrays.fill(v.weights(l), 3e38f);
        }
        Path vf = dir.resolve("v.safetensors");
        DirectionFile.toSafeTensors(net, v, Map.of()).write(vf);
        Path out = dir.resolve("hv.safetensors");
        Result res = run("hvp", "--model", m.toString(), "--data", data().toString(), "--loss", "mse",
                "--vector", vf.toString(), "--out", out.toString());
        assertEquals(Main.EXIT_ERROR, res.code(), res.out() + res.err());
        assertEquals(true, res.err().startsWith("checkprop: non-finite result: the loss is "), res.err());
        assertEquals(true, res.err().endsWith(" but the curvature product of layer 4 (layers.3) is NaN or infinite, the first"
                + " the backward pass reaches (is the direction too large?); nothing was written" + System.lineSeparator()), res.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void anOverflowingLastUpdateIsCaughtBeforeTheSave() throws IOException {
        Path save = dir.resolve("trained.safetensors");
        // One step of 16 samples: the update by 1e39 x gradient leaves infinite weights.
        Result res = run("train", "--samples", "20", "--blocks", "2", "--width", "8", "--optimizer", "sgd", "--lr", "1e39",
                "--epochs", "1", "--batch", "16", "--save", save.toString(), "--no-progress");
        assertEquals(Main.EXIT_ERROR, res.code(), res.out() + res.err());
        assertEquals("checkprop: non-finite result: layer 1 (layers.0, dense relu) has NaN or infinite parameters (did an"
                + " update overflow? lower the learning rate); the loss is NaN and nothing was written" + System.lineSeparator(),
                res.err());
        assertFalse(Files.exists(save));
    }

    @Test
    void divergingTrainingStopsWithoutSaving() throws IOException {
        Path save = dir.resolve("trained.safetensors");
        Result res = run("train", "--samples", "64", "--blocks", "2", "--width", "8", "--optimizer", "sgd", "--lr", "1e30",
                "--epochs", "50", "--batch", "16", "--save", save.toString(), "--no-progress");
        assertEquals(Main.EXIT_ERROR, res.code(), res.out() + res.err());
        assertEquals(true, res.err().startsWith("checkprop: non-finite result: "), res.err());
        assertEquals(1, res.err().lines().count(), res.err());
        assertFalse(Files.exists(save));
    }
}

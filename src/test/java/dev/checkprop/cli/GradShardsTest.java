package dev.checkprop.cli;

import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.train.ShardedGradient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code grad --shards K}: the file holds {@link ShardedGradient}'s bits, the same for every plan. */
class GradShardsTest {

    @TempDir
    Path dir;

    @Test
    void shardedGradientFilesAreTheEngineBitsForEveryPlan() throws IOException {
        Network net = Network.builder(6).dense(12, 10, Activation.TANH).dense(3, Activation.IDENTITY).build(5);
        Path model = dir.resolve("m.safetensors");
        ModelFile.save(net, model);
        Path data = dir.resolve("d.safetensors");
        ModelFile.saveData(Batch.regression(CliTest.uniform(21 * 6, 1), 6, CliTest.uniform(21 * 3, 2), 3), data);
        Gradients g = Gradients.zerosLike(net);
        double loss = ShardedGradient.gradient(net, ModelFile.loadData(data, Loss.MSE), Loss.MSE, "full", 4, 1, 0, "x", g);
        byte[] expected = ModelFile.gradientsToSafeTensors(net, g, loss).toBytes();
        for (String plan : new String[] {"full", "sqrt", "auto"}) {
            Path out = dir.resolve("g-" + plan.replace(':', '_') + ".safetensors");
            CliTest.Result r = CliTest.run("grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse",
                    "--plan", plan, "--shards", "4", "--out", out.toString(), "--threads", "2");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("4 shards of at most 6 rows"), r.out());
            assertArrayEquals(expected, Files.readAllBytes(out), plan);
        }
        // --shards 1 is the plain gradient, file for file.
        Path one = dir.resolve("one.safetensors");
        Path plain = dir.resolve("plain.safetensors");
        assertEquals(0, CliTest.run("grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse",
                "--shards", "1", "--out", one.toString()).code());
        assertEquals(0, CliTest.run("grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse",
                "--out", plain.toString()).code());
        assertArrayEquals(Files.readAllBytes(plain), Files.readAllBytes(one));
        SafeTensors.read(one);
        CliTest.Result bad = CliTest.run("grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse",
                "--shards", "0", "--out", one.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--shards must be >= 1"), bad.err());
    }
}

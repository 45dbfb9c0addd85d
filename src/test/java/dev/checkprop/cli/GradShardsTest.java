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

    /** grad reads what train reads: a CSV file and an IDX pair give the file of the same values in safetensors. */
    @Test
    void gradReadsCsvAndIdxAsTrainDoes() throws IOException {
        Network net = Network.builder(6).dense(8, 10, Activation.TANH).dense(3, Activation.IDENTITY).build(5);
        Path model = dir.resolve("m.safetensors");
        ModelFile.save(net, model);
        Batch b = Batch.regression(CliTest.uniform(21 * 6, 1), 6, CliTest.uniform(21 * 3, 2), 3);
        Path st = dir.resolve("d.safetensors");
        ModelFile.saveData(b, st);
        StringBuilder text = new StringBuilder("a,b,c,d,e,f,y1,y2,y3\n");
        for (int r = 0; r < 21; r++) {
            for (int c = 0; c < 9; c++) {
                text.append(c < 6 ? b.inputs()[r * 6 + c] : b.targets()[r * 3 + c - 6]).append(c < 8 ? "," : "\n");
            }
        }
        Path csv = dir.resolve("d.csv");
        Files.writeString(csv, text);
        for (String shards : new String[] {"1", "4"}) {
            Path a = dir.resolve("st" + shards + ".safetensors");
            Path c = dir.resolve("csv" + shards + ".safetensors");
            assertEquals(0, CliTest.run("grad", "--model", model.toString(), "--data", st.toString(), "--loss", "mse",
                    "--shards", shards, "--out", a.toString()).code());
            CliTest.Result r = CliTest.run("grad", "--model", model.toString(), "--data", csv.toString(), "--targets", "3",
                    "--loss", "mse", "--shards", shards, "--out", c.toString());
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(c), "csv, " + shards + " shards");
        }
        // IDX: unsigned-byte images scaled to [0, 1] as train scales them, against the same floats in safetensors.
        byte[] pixels = new byte[21 * 6];
        int[] labels = new int[21];
        float[] scaled = new float[21 * 6];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 37);
            scaled[i] = (pixels[i] & 0xff) / 255f;
        }
        for (int i = 0; i < 21; i++) {
            labels[i] = i % 3;
        }
        java.io.ByteArrayOutputStream img = new java.io.ByteArrayOutputStream();
        img.writeBytes(new byte[] {0, 0, 0x08, 2, 0, 0, 0, 21, 0, 0, 0, 6});
        img.writeBytes(pixels);
        java.io.ByteArrayOutputStream lab = new java.io.ByteArrayOutputStream();
        lab.writeBytes(new byte[] {0, 0, 0x08, 1, 0, 0, 0, 21});
        for (int l : labels) {
            lab.write(l);
        }
        Path images = dir.resolve("images.idx");
        Path labelFile = dir.resolve("labels.idx");
        Files.write(images, img.toByteArray());
        Files.write(labelFile, lab.toByteArray());
        Path same = dir.resolve("same.safetensors");
        ModelFile.saveData(Batch.classification(scaled, 6, labels), same);
        Path a = dir.resolve("idx-st.safetensors");
        Path c = dir.resolve("idx.safetensors");
        assertEquals(0, CliTest.run("grad", "--model", model.toString(), "--data", same.toString(), "--loss", "softmax-ce",
                "--shards", "4", "--out", a.toString()).code());
        CliTest.Result r = CliTest.run("grad", "--model", model.toString(), "--data", images.toString(), "--idx-labels",
                labelFile.toString(), "--loss", "softmax-ce", "--shards", "4", "--out", c.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(c), "idx");
        // A bad CSV value: the loader's message, exit code 2.
        Files.writeString(csv, text.toString().replaceFirst("\n[^,]+,", "\nabc,"));
        r = CliTest.run("grad", "--model", model.toString(), "--data", csv.toString(), "--targets", "3", "--loss", "mse",
                "--out", c.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(csv + " line 2, column 1: 'abc' is not a number"), r.err());
    }
}
